"""`hotline report`: what members asked, what the bot could not answer, how fast people helped.

Built from aggregate counters, redacted unmatched samples and case timestamps only;
it never reads a transcript or an address.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rapidfuzz import fuzz

from bot.storage.base import Case, Store, UnmatchedSample

SIMILARITY = 75  # rapidfuzz token_set_ratio at or above which two questions are grouped
_SINCE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)


def parse_since(value: str) -> timedelta:
    """'7d', '24h', '2w' -> a timedelta; ValueError otherwise."""
    m = _SINCE.match(value)
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"expected a period such as 7d, 24h or 2w, got {value!r}")
    n, unit = int(m.group(1)), m.group(2).lower()
    return {"h": timedelta(hours=n), "d": timedelta(days=n), "w": timedelta(weeks=n)}[unit]


@dataclass(frozen=True, slots=True)
class EntryCount:
    entry_id: str
    lang: str  # "en", "es" or "?" when unknown
    count: int


@dataclass(frozen=True, slots=True)
class UnmatchedGroup:
    example: str  # redacted
    count: int
    langs: dict[str, int]
    similar: tuple[str, ...] = ()  # a few other phrasings, redacted


@dataclass(frozen=True, slots=True)
class ClaimTimes:
    claimed: int
    unclaimed: int
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True, slots=True)
class Report:
    since: datetime
    until: datetime
    totals: dict[str, int]  # counter name -> sum (answered, unknown, escalated, ...)
    questions: list[EntryCount]
    unmatched: list[UnmatchedGroup]
    escalations: dict[str, int]  # "urgent/ice_present" -> cases opened
    claim_times: dict[str, ClaimTimes]  # "all", "urgent", "normal"
    languages: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"] = self.since.isoformat()
        data["until"] = self.until.isoformat()
        return data


def group_unmatched(
    samples: list[UnmatchedSample], threshold: int = SIMILARITY
) -> list[UnmatchedGroup]:
    """Greedy clustering: each question joins the first group whose example it resembles."""
    groups: list[tuple[str, list[UnmatchedSample]]] = []
    for sample in samples:
        norm = _normalise(sample.text)
        for key, members in groups:
            if fuzz.token_set_ratio(norm, key) >= threshold:
                members.append(sample)
                break
        else:
            groups.append((norm, [sample]))
    result = []
    for _, members in groups:
        langs: dict[str, int] = defaultdict(int)
        for m in members:
            langs[m.lang.value] += 1
        texts = list(dict.fromkeys(m.text for m in members))
        result.append(
            UnmatchedGroup(
                example=texts[0], count=len(members), langs=dict(langs), similar=tuple(texts[1:4])
            )
        )
    result.sort(key=lambda g: (-g.count, g.example))
    return result


def _normalise(text: str) -> str:
    return re.sub(r"[^\w\[\]]+", " ", text.lower()).strip()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    # Linear interpolation between closest ranks (numpy's default).
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def claim_times(cases: list[Case]) -> ClaimTimes:
    waits = [
        (c.claimed_at - c.opened_at).total_seconds() for c in cases if c.claimed_at is not None
    ]
    return ClaimTimes(
        claimed=len(waits),
        unclaimed=len(cases) - len(waits),
        median_s=statistics.median(waits) if waits else None,
        p90_s=_percentile(waits, 0.9) if waits else None,
    )


def build_report(store: Store, since: datetime, until: datetime) -> Report:
    totals: dict[str, int] = defaultdict(int)
    questions: dict[tuple[str, str], int] = defaultdict(int)
    languages: dict[str, int] = defaultdict(int)
    for row in store.counter_totals(since):
        totals[row.name] += row.n
        lang = row.lang.value if row.lang else "?"
        if row.name in ("answered", "unknown", "offered_choice", "escalated"):
            languages[lang] += row.n
        if row.name == "answered" and row.entry_id:
            questions[(row.entry_id, lang)] += row.n
    cases = store.cases_opened(since)
    escalations: dict[str, int] = defaultdict(int)
    for c in cases:
        escalations[f"{c.urgency.value}/{c.reason.value}"] += 1
    times = {"all": claim_times(cases)}
    for urgency in sorted({c.urgency.value for c in cases}):
        times[urgency] = claim_times([c for c in cases if c.urgency.value == urgency])
    return Report(
        since=since,
        until=until,
        totals=dict(sorted(totals.items())),
        questions=sorted(
            (EntryCount(e, lang, n) for (e, lang), n in questions.items()),
            key=lambda q: (-q.count, q.entry_id, q.lang),
        ),
        unmatched=group_unmatched(store.unmatched_samples(since)),
        escalations=dict(sorted(escalations.items(), key=lambda kv: (-kv[1], kv[0]))),
        claim_times=times,
        languages=dict(sorted(languages.items())),
    )


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}min"
    return f"{seconds / 3600:.1f}h"


def _table(headers: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[str]:
    cells = [tuple(str(c) for c in headers)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def format_report(report: Report, *, limit: int = 20) -> str:
    """The report as plain-text tables for a terminal."""
    out = [
        f"hotline report {report.since:%Y-%m-%d %H:%M} - {report.until:%Y-%m-%d %H:%M} UTC",
        "",
        "Totals",
    ]
    names = (
        "answered",
        "offered_choice",
        "unknown",
        "escalated",
        "opted_out",
        "opted_in",
        "deleted",
    )
    out += _table(("event", "count"), [(n, report.totals.get(n, 0)) for n in names])
    extra = sorted(set(report.totals) - set(names))
    out += [f"{n}  {report.totals[n]}" for n in extra]
    out += ["", "Messages by language"]
    out += (
        _table(("lang", "count"), list(report.languages.items()))
        if report.languages
        else ["(none)"]
    )
    out += ["", "Questions answered, per entry and language"]
    rows: list[tuple[object, ...]] = [(q.entry_id, q.lang, q.count) for q in report.questions]
    out += _table(("entry", "lang", "count"), rows[:limit]) if rows else ["(none)"]
    out += ["", "Unmatched questions (redacted, grouped by similarity)"]
    groups: list[tuple[object, ...]] = [
        (g.count, ",".join(f"{k}:{v}" for k, v in sorted(g.langs.items())), g.example[:70])
        for g in report.unmatched[:limit]
    ]
    out += _table(("count", "langs", "example"), groups) if groups else ["(none)"]
    out += ["", "Escalations (cases opened)"]
    esc: list[tuple[object, ...]] = list(report.escalations.items())
    out += _table(("urgency/reason", "cases"), esc) if esc else ["(none)"]
    out += ["", "Time to claim"]
    times: list[tuple[object, ...]] = [
        (k, t.claimed, t.unclaimed, _duration(t.median_s), _duration(t.p90_s))
        for k, t in report.claim_times.items()
    ]
    out += _table(("cases", "claimed", "unclaimed", "median", "p90"), times)
    return "\n".join(out) + "\n"
