"""Search the matcher's weights and decision thresholds on labelled sets.

    python scripts/tune_router.py --set new-labelled.jsonl [--set ...] [--trials 3000]

Each message's evidence (similarities by every measure) and urgency are computed once; then
random and local search over the weights and thresholds maximises, summed over the sets,
top-1 accuracy on in-scope questions (a right entry offered as a choice counts 0.75) plus
out-of-scope rejection (each set counts the same). It prints the best values to copy into
`bot/matching.py`. Never tune on the set you report as held out, nor on a set the FAQ has
already learned (`hotline faq learn`): its messages are examples then, and every weight
looks right on them. Tune on a new set first, then let the FAQ learn it (or tune against a
copy of faq/ that learned only the other sets, with --faq).
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_router import load_set  # noqa: E402

from bot.faq import Faq  # noqa: E402
from bot.i18n import Messages  # noqa: E402
from bot.matching import Evidence, Matcher  # noqa: E402
from bot.models import Urgency  # noqa: E402
from bot.router import Decision, Router, decide, safety_entry  # noqa: E402
from bot.triage import Triage, assess  # noqa: E402

CHOICE_CREDIT = 0.75  # what a right top entry offered as one of two choices scores
# name -> (low, high) of the search range
SPACE = {
    "question_weight": (0.3, 0.9),
    "bayes_weight": (0.0, 1.5),
    "char_weight": (0.0, 3.0),
    "svm_weight": (0.0, 3.0),
    "answer_threshold": (0.2, 2.0),
    "reject_threshold": (0.1, 1.5),
    "choice_margin": (0.0, 0.3),
    "min_coverage": (0.2, 0.8),
    "not_answered_ratio": (0.5, 1.3),
}


@dataclass
class Item:
    row: dict[str, Any]
    evidence: Evidence
    triage: Triage


def score(matcher: Matcher, sets: list[list[Item]]) -> tuple[float, list[tuple[float, float]]]:
    total, parts = 0.0, []
    for items in sets:
        ok = n = rej = n_oos = 0
        for it in items:
            match = matcher.combine(it.evidence)
            decision = decide(match, matcher)
            entry = match.top.entry_id if match.top and decision != Decision.UNKNOWN else None
            tri = it.triage
            if tri.urgency is Urgency.URGENT and tri.reason is not None:
                entry = safety_entry(tri.reason, match, tri.rule, decision == Decision.ANSWER)
            if it.row["entry"]:
                n += 1
                # a choice costs the member a turn: a right one counts less than an answer,
                # or the search learns to offer two entries every time
                hit = entry == it.row["entry"]
                ok += hit * (CHOICE_CREDIT if decision == Decision.CHOICE else 1.0)
            elif not it.row["urgent"]:
                n_oos += 1
                rej += entry is None
        top1, oos = ok / max(1, n), rej / max(1, n_oos)
        parts.append((top1, oos))
        total += top1 + oos
    return total, parts


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", action="append", required=True)
    ap.add_argument("--trials", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--faq", type=Path, default=ROOT / "faq")
    ap.add_argument(
        "--calibrate", action="store_true", help="then refit CALIBRATION (logistic regression)"
    )
    args = ap.parse_args()
    faq = Faq.load(args.faq)
    router = Router(faq, Messages.load(ROOT / "locales", faq.values))
    m = router.matcher
    sets = [
        [
            Item(r, m.evidence(m.analyse(r["text"])), assess(r["text"], router.urgency))
            for r in load_set(Path(p))
        ]
        for p in args.set
    ]
    rng = random.Random(args.seed)
    best = {k: float(getattr(m, k)) for k in SPACE}
    best_score, parts = score(m, sets)
    print(f"current: {best_score:.4f} {fmt(parts)}")
    for trial in range(args.trials):
        if trial < args.trials // 3:  # explore
            cand = {k: rng.uniform(lo, hi) for k, (lo, hi) in SPACE.items()}
        else:  # refine around the best
            cand = dict(best)
            for k in rng.sample(list(SPACE), rng.randint(1, 3)):
                lo, hi = SPACE[k]
                cand[k] = min(hi, max(lo, cand[k] + rng.gauss(0, (hi - lo) / 10)))
        for k, v in cand.items():
            setattr(m, k, v)
        s, p = score(m, sets)
        if s > best_score:
            best_score, best, parts = s, cand, p
            print(f"{trial:5d}: {best_score:.4f} {fmt(parts)}")
    print("best:")
    for k, v in best.items():
        print(f"    {k} = {v:.3f}")
    for k, v in best.items():
        setattr(m, k, v)
    if args.calibrate:
        print(f"CALIBRATION = {fit_calibration(m, sets)}")
    return 0


def fit_calibration(matcher: Matcher, sets: list[list[Item]]) -> tuple[float, ...]:
    """P(top entry is right) from the same inputs `bot.matching.calibrate` takes; an
    out-of-scope message counts as "wrong" whatever it lands on."""
    from sklearn.linear_model import LogisticRegression

    x, y = [], []
    for items in sets:
        for it in items:
            match = matcher.combine(it.evidence)
            if match.top is None or (it.row["urgent"] and not it.row["entry"]):
                continue
            top = match.top.score
            second = match.candidates[1].score if len(match.candidates) > 1 else 0.0
            x.append([top, top - second, match.coverage, max(0.0, match.not_answered - top)])
            y.append(int(match.top.entry_id == it.row["entry"]))
    lr = LogisticRegression(C=10.0, max_iter=1000).fit(x, y)
    return tuple(round(float(v), 2) for v in (lr.intercept_[0], *lr.coef_[0]))


def fmt(parts: list[tuple[float, float]]) -> str:
    return " ".join(f"[{100 * a:.1f} {100 * b:.1f}]" for a, b in parts)


if __name__ == "__main__":
    raise SystemExit(main())
