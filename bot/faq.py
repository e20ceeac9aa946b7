"""The FAQ: loading coordinators' YAML (areas, entries, settings, lexicon), validating it with
file:line problems, and rendering answers with settings values as Fluent placeables."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema
from fluent.runtime import FluentBundle
from fluent.syntax import FluentParser, ast

from bot import segments
from bot.errors import ContentError
from bot.models import Lang
from bot.yamlsrc import Document, Problem, load

SETTINGS_FILE = "settings.yaml"
LEXICON_FILE = "lexicon.yaml"
NOT_ANSWERED_FILE = "not-answered.yaml"
URGENCY_FILE = "urgency.yaml"
SPECIAL_FILES = (SETTINGS_FILE, LEXICON_FILE, NOT_ANSWERED_FILE, URGENCY_FILE)
SCHEMA_DIR = "schema"
REVIEW_MAX_AGE = timedelta(days=365)
FULL_MAX_CHARS = 4096
LANGS = (Lang.EN, Lang.ES)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Values = dict[Lang, dict[str, str | int]]


@dataclass(frozen=True, slots=True)
class EntryText:
    """An entry in one language, with settings already filled in."""

    title: str
    questions: tuple[str, ...]
    sms: str
    full: str


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    area: str
    text: dict[Lang, EntryText]
    related: tuple[str, ...]
    sources: tuple[str, ...]
    reviewed: date
    file: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class Area:
    id: str
    order: int
    title: dict[Lang, str]
    entries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Hours:
    """When volunteers answer."""

    timezone: ZoneInfo
    weekly: dict[int, tuple[tuple[time, time], ...]]  # weekday (Mon=0) -> ranges
    holidays: frozenset[date]

    def is_open(self, when: datetime) -> bool:
        local = when.astimezone(self.timezone)
        if local.date() in self.holidays:
            return False
        t = local.time()
        return any(a <= t < b for a, b in self.weekly.get(local.weekday(), ()))

    def next_open(self, when: datetime) -> datetime | None:
        """The next moment volunteers are on, at or after `when` (None if never in 3 weeks)."""
        local = when.astimezone(self.timezone)
        for day in range(22):
            d = local.date() + timedelta(days=day)
            if d in self.holidays:
                continue
            for a, b in sorted(self.weekly.get(d.weekday(), ())):
                start = datetime.combine(d, a, self.timezone)
                end = datetime.combine(d, b, self.timezone)
                if day == 0 and local >= end:
                    continue
                return max(start, local)
        return None


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Synonyms and slang grouped by concept, and stopwords, per language (see lexicon.yaml)."""

    concepts: dict[str, dict[Lang, tuple[str, ...]]] = field(default_factory=dict)
    stopwords: dict[Lang, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Faq:
    """Everything coordinators edit, loaded and checked. Immutable: a reload builds a new one."""

    entries: dict[str, Entry]
    areas: tuple[Area, ...]
    values: Values
    hours: Hours
    lexicon: Lexicon
    version: str  # short hash of the content, shown by /healthz
    not_answered: dict[Lang, tuple[str, ...]] = field(default_factory=dict)
    urgent_examples: tuple[str, ...] = ()
    calm_examples: tuple[str, ...] = ()

    def entry(self, entry_id: str) -> Entry:
        return self.entries[entry_id]

    @classmethod
    def load(cls, faq_dir: Path, today: date | None = None) -> Faq:
        """Load and validate; raise ContentError listing every error (warnings are dropped)."""
        faq, problems = load_faq(faq_dir, today)
        errors = [p for p in problems if p.severity == "error"]
        if errors or faq is None:
            raise ContentError("\n".join(str(p) for p in errors) or "FAQ could not be loaded")
        return faq


# --- loading -----------------------------------------------------------------------------


@cache
def _schema(name: str) -> dict[str, Any]:
    path = Path(__file__).resolve().parent.parent / "faq" / SCHEMA_DIR / name
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _schema_for(faq_dir: Path, name: str) -> dict[str, Any]:
    """The schema next to the FAQ (what editors see), else the one shipped with the bot."""
    local = faq_dir / SCHEMA_DIR / name
    if local.exists():
        return dict(json.loads(local.read_text(encoding="utf-8")))
    try:
        return _schema(name)
    except FileNotFoundError:
        return {}  # no schema: only the loader's own checks apply


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _schema_problems(doc: Document, schema: dict[str, Any]) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(schema)
    out = []
    for err in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.path))):
        path = tuple(err.absolute_path)
        where = "/".join(str(p) for p in path) or "top level"
        if err.validator == "required" and isinstance(err.instance, dict):
            missing = [r for r in err.validator_value if r not in err.instance]
            what = ", ".join(f"'{m}'" for m in missing)
            if any(m in ("en", "es") for m in missing):
                msg = f"{where}: missing language {what}"
            else:
                msg = f"{where}: missing {what}"
        elif err.validator == "uniqueItems" and isinstance(err.instance, list):
            seen: set[str] = set()
            dups = []
            for item in err.instance:
                key = json.dumps(item, sort_keys=True)
                if key in seen and item not in dups:
                    dups.append(item)
                seen.add(key)
            msg = f"{where}: listed twice: {', '.join(repr(d) for d in dups)}"
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
            extra = [k for k in err.instance if k not in allowed]
            names = ", ".join(f"'{k}'" for k in extra)
            msg = f"{where}: unknown field {names} (check the spelling)"
            if extra:
                path = (*path, extra[0])
        else:
            msg = f"{where}: {err.message}"
        out.append(Problem(doc.file, doc.line(path), msg))
    return out


def _values(doc: Document) -> Values:
    values: Values = {lang: {} for lang in LANGS}
    for name, value in (doc.data.get("values") or {}).items():
        for lang in LANGS:
            if isinstance(value, dict):
                values[lang][str(name)] = str(value.get(lang.value, ""))
            elif isinstance(value, bool):
                values[lang][str(name)] = str(value)
            elif isinstance(value, int):
                values[lang][str(name)] = value
            else:
                values[lang][str(name)] = str(value)
    return values


def _hours(doc: Document, problems: list[Problem]) -> Hours:
    raw = doc.data.get("volunteer_hours") or {}
    try:
        tz = ZoneInfo(str(raw.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            Problem(
                doc.file,
                doc.line(("volunteer_hours", "timezone")),
                f"unknown time zone {raw.get('timezone')!r} (use e.g. America/New_York)",
            )
        )
        tz = ZoneInfo("UTC")
    weekly: dict[int, tuple[tuple[time, time], ...]] = {}
    for i, day in enumerate(WEEKDAYS):
        ranges = []
        for j, spec in enumerate((raw.get("weekly") or {}).get(day) or []):
            try:
                a, b = (s.strip() for s in str(spec).split("-"))
                start = time.fromisoformat(a)
                end = time.max if b == "24:00" else time.fromisoformat(b)
                if end <= start:
                    raise ValueError
                ranges.append((start, end))
            except ValueError:
                problems.append(
                    Problem(
                        doc.file,
                        doc.line(("volunteer_hours", "weekly", day, j)),
                        f"bad hours range {spec!r} (write e.g. 09:00-17:00)",
                    )
                )
        weekly[i] = tuple(ranges)
    holidays = set()
    for j, d in enumerate(raw.get("holidays") or []):
        try:
            holidays.add(date.fromisoformat(str(d)))
        except ValueError:
            problems.append(
                Problem(
                    doc.file,
                    doc.line(("volunteer_hours", "holidays", j)),
                    f"bad date {d!r} (write YYYY-MM-DD)",
                )
            )
    return Hours(tz, weekly, frozenset(holidays))


def render(text: str, values: dict[str, str | int], lang: Lang) -> tuple[str, list[str]]:
    """Fill `{ $name }` placeables in `text`; return the result and any Fluent errors.

    Paragraphs are rendered one by one: fluent.runtime refuses a run of more than 2,500
    characters, and an answer may be longer than that.
    """
    out: list[str] = []
    problems: list[str] = []
    for para in text.strip().split("\n\n"):
        lines = [[para]] if len(para) < 2000 else [_split_long(ln) for ln in para.split("\n")]
        rendered_lines = []
        for pieces in lines:
            rendered = []
            for piece in pieces:
                result, errs = _render_chunk(piece, values, lang)
                rendered.append(result)
                problems += [e for e in errs if e not in problems]
            rendered_lines.append(" ".join(rendered))
        out.append("\n".join(rendered_lines))
    return "\n\n".join(out), problems


def _split_long(line: str, limit: int = 2000) -> list[str]:
    """Cut a very long line at spaces outside placeables (joined back with a space)."""
    if len(line) <= limit:
        return [line]
    pieces, start, depth, last_space = [], 0, 0, -1
    for i, c in enumerate(line):
        depth += c == "{"
        depth -= c == "}"
        if c == " " and depth == 0:
            last_space = i
        if i - start >= limit and last_space > start:
            pieces.append(line[start:last_space])
            start = last_space + 1
    pieces.append(line[start:])
    return pieces


def _render_chunk(text: str, values: dict[str, str | int], lang: Lang) -> tuple[str, list[str]]:
    if not text.strip():
        return "", []
    body = "\n".join(("    " + line) if line.strip() else "" for line in text.strip().split("\n"))
    source = "m =\n" + body + "\n"
    parsed = FluentParser(with_spans=True).parse(source)
    for item in parsed.body:
        if isinstance(item, ast.Junk):
            note = item.annotations[0].message if item.annotations else "syntax error"
            return text, [
                f"Fluent syntax error: {note}. Use {{ $name }} only for settings, and don't "
                "start a line with [ * or ."
            ]
    bundle = FluentBundle([lang.value], use_isolating=False)
    bundle.add_resource(parsed)  # parsed once: the checked tree is the one rendered
    message = bundle.get_message("m")
    if message.value is None:
        return text, ["empty text"]
    try:
        result, errors = bundle.format_pattern(message.value, values)
    except ValueError as exc:  # fluent.runtime's own size limits
        return text, [f"Fluent could not render this text: {exc}"]
    problems = []
    for err in errors:
        msg = str(err)
        if msg.startswith("Unknown external: "):
            name = msg.removeprefix("Unknown external: ")
            problems.append(f"unknown settings value {{ ${name} }} (see settings.yaml values:)")
        else:
            problems.append(msg)
    return str(result), problems


def _load_special(
    faq_dir: Path, name: str, schema: str, digest: Any, problems: list[Problem]
) -> Document | None:
    """One of the FAQ's own files (settings, lexicon...): parsed and schema-checked, or None
    when it is absent, unreadable or not a mapping. Its bytes go into the content version."""
    path = faq_dir / name
    if not path.exists():
        return None
    digest.update(path.read_bytes())
    doc, found = load(path, _display(path))
    problems += found
    if doc is None:
        return None
    problems += _schema_problems(doc, _schema_for(faq_dir, schema))
    return doc if isinstance(doc.data, dict) else None


def load_faq(faq_dir: Path, today: date | None = None) -> tuple[Faq | None, list[Problem]]:
    """Load and check the FAQ directory, reporting every problem at once."""
    today = today or date.today()
    problems: list[Problem] = []
    digest = hashlib.sha256()

    values: Values = {lang: {} for lang in LANGS}
    hours = Hours(ZoneInfo("UTC"), {}, frozenset())
    if not (faq_dir / SETTINGS_FILE).exists():
        problems.append(Problem(_display(faq_dir / SETTINGS_FILE), 1, "settings file is missing"))
    sdoc = _load_special(faq_dir, SETTINGS_FILE, "settings.schema.json", digest, problems)
    if sdoc is not None:
        values = _values(sdoc)
        hours = _hours(sdoc, problems)

    lexicon = Lexicon()
    ldoc = _load_special(faq_dir, LEXICON_FILE, "lexicon.schema.json", digest, problems)
    if ldoc is not None and not any(
        p.file == ldoc.file and p.severity == "error" for p in problems
    ):
        lexicon = _lexicon(ldoc, problems)

    not_answered: dict[Lang, tuple[str, ...]] = {}
    ndoc = _load_special(faq_dir, NOT_ANSWERED_FILE, "not-answered.schema.json", digest, problems)
    if ndoc is not None:
        not_answered = {
            lang: tuple(str(q) for q in ndoc.data.get(lang.value) or []) for lang in LANGS
        }

    urgent_examples: tuple[str, ...] = ()
    calm_examples: tuple[str, ...] = ()
    udoc = _load_special(faq_dir, URGENCY_FILE, "urgency.schema.json", digest, problems)
    if udoc is not None:
        urgent_examples = tuple(str(x) for x in udoc.data.get("urgent") or [])
        calm_examples = tuple(str(x) for x in udoc.data.get("calm") or [])

    entries: dict[str, Entry] = {}
    where: dict[str, tuple[str, int]] = {}
    areas: list[Area] = []
    related_refs: list[tuple[str, str, Document, tuple[str | int, ...]]] = []
    area_files = sorted(p for p in faq_dir.glob("*.yaml") if p.name not in SPECIAL_FILES)
    if not area_files:
        problems.append(Problem(_display(faq_dir), 1, "no FAQ files (*.yaml) found"))
    for path in area_files:
        digest.update(path.name.encode() + path.read_bytes())
        doc, fp = load(path, _display(path))
        problems += fp
        if doc is None:
            continue
        schema_problems = _schema_problems(doc, _schema_for(faq_dir, "faq.schema.json"))
        problems += schema_problems
        if not isinstance(doc.data, dict) or not isinstance(doc.data.get("area"), dict):
            continue
        area_raw = doc.data["area"]
        area_id = str(area_raw.get("id", path.stem))
        ids: list[str] = []
        for i, raw in enumerate(doc.data.get("entries") or []):
            if not isinstance(raw, dict) or "id" not in raw:
                continue
            entry_id = str(raw["id"])
            line = doc.line(("entries", i))
            if entry_id in where:
                first_file, first_line = where[entry_id]
                problems.append(
                    Problem(
                        doc.file,
                        doc.line(("entries", i, "id")),
                        f"duplicate id '{entry_id}' (already used at {first_file}:{first_line})",
                    )
                )
                continue
            where[entry_id] = (doc.file, line)
            for j, rel in enumerate(raw.get("related") or []):
                related_refs.append((entry_id, str(rel), doc, ("entries", i, "related", j)))
            entry = _entry(doc, i, raw, area_id, values, problems, today)
            if entry is None:
                continue
            entries[entry_id] = entry
            ids.append(entry_id)
        titles = {lang: str(area_raw.get(lang.value, area_id)) for lang in LANGS}
        areas.append(Area(area_id, int(area_raw.get("order", 99)), titles, tuple(ids)))

    for entry_id, rel, doc, path_ in related_refs:
        if rel == entry_id:
            problems.append(Problem(doc.file, doc.line(path_), f"'{entry_id}' lists itself"))
        elif rel not in entries and rel not in where:
            problems.append(
                Problem(doc.file, doc.line(path_), f"related id '{rel}' does not exist")
            )
    orders: dict[int, str] = {}
    for area in sorted(areas, key=lambda a: a.order):
        if area.order in orders:
            problems.append(
                Problem(
                    _display(faq_dir / f"{area.id}.yaml"),
                    2,
                    f"area order {area.order} is used by both '{orders[area.order]}' "
                    f"and '{area.id}'",
                )
            )
        orders[area.order] = area.id

    if any(p.severity == "error" for p in problems):
        return None, problems
    faq = Faq(
        entries=entries,
        areas=tuple(sorted(areas, key=lambda a: a.order)),
        values=values,
        hours=hours,
        lexicon=lexicon,
        version=digest.hexdigest()[:12],
        not_answered=not_answered,
        urgent_examples=urgent_examples,
        calm_examples=calm_examples,
    )
    return faq, problems


def _entry(
    doc: Document,
    i: int,
    raw: dict[str, Any],
    area_id: str,
    values: Values,
    problems: list[Problem],
    today: date,
) -> Entry | None:
    entry_id = str(raw["id"])
    base = ("entries", i)
    ok = True
    texts: dict[Lang, EntryText] = {}
    for lang in LANGS:
        t = raw.get(lang.value)
        if not isinstance(t, dict):
            ok = False
            continue
        rendered: dict[str, str] = {}
        for key in ("title", "sms", "full"):
            value = t.get(key)
            if not isinstance(value, str):
                ok = False
                continue
            out, errs = render(value, values[lang], lang)
            for err in errs:
                ok = False
                problems.append(
                    Problem(
                        doc.file, doc.line((*base, lang.value, key)), f"{entry_id} {lang}: {err}"
                    )
                )
            rendered[key] = out
        sms = rendered.get("sms")
        if sms is not None:
            info = segments.count(sms)
            if info.segments > segments.MAX_SEGMENTS_SMS_ANSWER:
                ok = False
                why = (
                    f"; UCS-2 forced by {' '.join(repr(c) for c in info.non_gsm)}"
                    if info.non_gsm
                    else ""
                )
                problems.append(
                    Problem(
                        doc.file,
                        doc.line((*base, lang.value, "sms")),
                        f"{entry_id} {lang}: SMS answer is {info.segments} segments "
                        f"({info.encoding}, {info.units} characters; the limit is 3 segments = "
                        f"{info.limit_for_three} characters in {info.encoding}){why}",
                    )
                )
        full = rendered.get("full")
        if full is not None and len(full) > FULL_MAX_CHARS:
            ok = False
            problems.append(
                Problem(
                    doc.file,
                    doc.line((*base, lang.value, "full")),
                    f"{entry_id} {lang}: full answer is {len(full)} characters "
                    f"(Telegram's limit is {FULL_MAX_CHARS})",
                )
            )
        questions = tuple(str(q) for q in t.get("questions") or [] if isinstance(q, str))
        if ok:
            texts[lang] = EntryText(rendered["title"], questions, rendered["sms"], rendered["full"])
    reviewed_raw = str(raw.get("reviewed", ""))
    try:
        reviewed = date.fromisoformat(reviewed_raw)
    except ValueError:
        problems.append(
            Problem(
                doc.file,
                doc.line((*base, "reviewed")),
                f'{entry_id}: reviewed must be a date like "2026-11-23", got {reviewed_raw!r}',
            )
        )
        return None
    if today - reviewed > REVIEW_MAX_AGE:
        problems.append(
            Problem(
                doc.file,
                doc.line((*base, "reviewed")),
                f"{entry_id}: last reviewed {reviewed.isoformat()}, more than 12 months ago; "
                "check the facts and update the date",
                "warning",
            )
        )
    elif reviewed > today:
        problems.append(
            Problem(
                doc.file,
                doc.line((*base, "reviewed")),
                f"{entry_id}: reviewed date {reviewed.isoformat()} is in the future",
                "warning",
            )
        )
    if not ok or len(texts) != len(LANGS):
        return None
    return Entry(
        id=entry_id,
        area=area_id,
        text=texts,
        related=tuple(str(r) for r in raw.get("related") or []),
        sources=tuple(str(s) for s in raw.get("sources") or []),
        reviewed=reviewed,
        file=doc.file,
        line=doc.line(base),
    )


def _lexicon(doc: Document, problems: list[Problem]) -> Lexicon:
    from bot.text import fold  # local: text depends on nothing here, avoid a cycle at import

    concepts: dict[str, dict[Lang, tuple[str, ...]]] = {}
    owner: dict[str, str] = {}
    for name, langs in (doc.data.get("concepts") or {}).items():
        per: dict[Lang, tuple[str, ...]] = {}
        for lang in LANGS:
            phrases = []
            for j, phrase in enumerate((langs or {}).get(lang.value) or []):
                folded = fold(str(phrase))
                if not folded:
                    continue
                prev = owner.get(folded)
                if prev is not None and prev != name:
                    problems.append(
                        Problem(
                            doc.file,
                            doc.line(("concepts", name, lang.value, j)),
                            f"'{phrase}' is in two groups: '{prev}' and '{name}'",
                        )
                    )
                owner[folded] = str(name)
                phrases.append(folded)
            per[lang] = tuple(phrases)
        concepts[str(name)] = per
    stop = {
        lang: frozenset(
            fold(str(w)) for w in (doc.data.get("stopwords") or {}).get(lang.value) or []
        )
        for lang in LANGS
    }
    for lang in LANGS:
        for j, w in enumerate((doc.data.get("stopwords") or {}).get(lang.value) or []):
            if fold(str(w)) in owner:
                problems.append(
                    Problem(
                        doc.file,
                        doc.line(("stopwords", lang.value, j)),
                        f"stopword '{w}' is also in group '{owner[fold(str(w))]}'",
                    )
                )
    return Lexicon(concepts, stop)


def export(faq: Faq) -> dict[str, Any]:
    """The whole FAQ as one JSON-ready document (the shape other tools rely on)."""
    out = []
    for area in faq.areas:
        for entry_id in area.entries:
            e = faq.entries[entry_id]
            out.append(
                {
                    "id": e.id,
                    "area": e.area,
                    "title": {lang.value: e.text[lang].title for lang in LANGS},
                    "questions": {lang.value: list(e.text[lang].questions) for lang in LANGS},
                    "answer": {
                        lang.value: {"sms": e.text[lang].sms, "full": e.text[lang].full}
                        for lang in LANGS
                    },
                    "related": list(e.related),
                    "sources": list(e.sources),
                    "reviewed": e.reviewed.isoformat(),
                }
            )
    return {"entries": out}
