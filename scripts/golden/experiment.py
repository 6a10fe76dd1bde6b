"""Golden values for the listening-experiment analysis (crates/study/src/experiment.rs).

Two fixed response tables (participants x session items, each item with its hidden origins and a
like/dislike) are written together with what scipy says about them, so the Rust test rebuilds the
same sessions, runs `analyze_study` and compares:
  * like rate of a method per participant = likes / rated among the items whose origins include
    the method (an item both methods recommended counts for both); decoys likewise;
  * scipy.stats.ttest_rel(rate_a, rate_b): t, df, two-sided p, and its 95% confidence_interval
    of the mean difference; Cohen's d_z = mean(d) / std(d, ddof=1);
  * scipy.stats.wilcoxon(rate_a, rate_b) with its defaults (statistic, two-sided p).
Case "small": 8 participants with ties and zero differences (scipy's exact permutation p-value).
Case "large": 20 participants (normal approximation with tie correction).

Run from the repo root (scipy 1.17.1, numpy 2.4.6):
    python scripts/golden/experiment.py
It rewrites crates/study/tests/golden/experiment.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

K = 5
DECOYS = 4
METHODS = ["similarity", "genre"]


def make_case(name: str, n: int, rng: np.random.Generator, p_a: float, p_b: float) -> dict:
    participants = []
    for i in range(n):
        items = []
        # Item 0 is recommended by both methods; then 4 more per method; then decoys.
        items.append({"origins": ["similarity", "genre"]})
        items += [{"origins": ["similarity"]} for _ in range(K - 1)]
        items += [{"origins": ["genre"]} for _ in range(K - 1)]
        items += [{"origins": ["decoy"]} for _ in range(DECOYS)]
        for item in items:
            o = item["origins"]
            p = p_b if "genre" in o else p_a if "similarity" in o else 0.2
            item["liked"] = bool(rng.random() < p)
        participants.append({"participant": f"p{i:02d}", "items": items})
    return {"name": name, "participants": participants}


def rates(case: dict, group: str) -> list[float]:
    out = []
    for p in case["participants"]:
        items = [it for it in p["items"] if group in it["origins"]]
        out.append(sum(it["liked"] for it in items) / len(items))
    return out


def analyse(case: dict) -> dict:
    a, b = np.array(rates(case, "similarity")), np.array(rates(case, "genre"))
    d = a - b
    t = stats.ttest_rel(a, b)
    ci = t.confidence_interval(0.95)
    w = stats.wilcoxon(a, b)
    return {
        "rates_similarity": a.tolist(),
        "rates_genre": b.tolist(),
        "rates_decoy": rates(case, "decoy"),
        "t": float(t.statistic),
        "df": float(t.df),
        "p": float(t.pvalue),
        "mean_difference": float(d.mean()),
        "ci_low": float(ci.low),
        "ci_high": float(ci.high),
        "cohens_dz": float(d.mean() / d.std(ddof=1)),
        "wilcoxon_statistic": float(w.statistic),
        "wilcoxon_p": float(w.pvalue),
    }


def main() -> None:
    rng = np.random.default_rng(20240601)
    cases = [
        make_case("small", 8, rng, 0.4, 0.7),
        make_case("large", 20, rng, 0.45, 0.65),
    ]
    for case in cases:
        case["scipy"] = analyse(case)
    out = {
        "k": K,
        "decoys": DECOYS,
        "methods": METHODS,
        "versions": {"scipy": scipy.__version__, "numpy": np.__version__},
        "cases": cases,
    }
    path = Path("crates/study/tests/golden/experiment.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
