"""Benchmark figures: each benchmark records its figures (value, the baseline measured in the same run, goal),
and `make bench` ends with one table of all of them, unconfined and under the Pi budget side by side.

Figures go to a JSON-lines file per budget (PIGATE_BENCH_RESULTS, default in the temp directory), emptied when
a benchmark session starts. `python -m tests.bench.report` prints the table from the last sessions' files.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.bench.budget import percent_from_env


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None   # what the same run measured for the reference (see `against`)
    against: str = ""               # what the baseline is, in a few words
    goal: str = ""                  # as printed: ">= 0.5", "<= 20 ms"
    met: bool | None = None         # None: no goal
    ratio: float | None = None      # value / baseline unless the benchmark says otherwise
    budget: int | None = None       # the CPU percent the daemon was confined to (None: unconfined)


def results_path(budget: int | None) -> Path:
    explicit = os.environ.get("PIGATE_BENCH_RESULTS")
    if explicit:
        return Path(explicit)
    tag = "unconfined" if budget is None else f"budget{budget}"
    return Path(tempfile.gettempdir()) / f"pigate-bench-{tag}.jsonl"


def start_session() -> None:
    results_path(percent_from_env()).write_text("")


def record(name: str, value: float, *, unit: str, baseline: float | None = None, against: str = "",
           goal: str = "", met: bool | None = None, ratio: float | None = None) -> Figure:
    """Keep one figure of this run and print it at once (the table comes at the end)."""
    if ratio is None and baseline:
        ratio = value / baseline
    fig = Figure(name, value, unit, baseline, against, goal, met, ratio, percent_from_env())
    with results_path(fig.budget).open("a") as f:
        f.write(json.dumps(asdict(fig)) + "\n")
    print(f"\n[bench] {_line(fig)}")
    return fig


def load(path: Path) -> list[Figure]:
    if not path.exists():
        return []
    return [Figure(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def _num(v: float | None, unit: str = "") -> str:
    if v is None:
        return "-"
    text = f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return f"{text} {unit}".strip()


def _line(f: Figure) -> str:
    verdict = "" if f.met is None else (" ok" if f.met else " MISSED")
    base = f"{_num(f.baseline, f.unit)} ({f.against})" if f.baseline is not None else "-"
    return (f"{f.name}: {_num(f.value, f.unit)}; baseline {base}; ratio {_num(f.ratio)}; "
            f"goal {f.goal or '-'}{verdict}")


def table(unconfined: list[Figure], budgeted: list[Figure]) -> str:
    """Markdown: every figure of the unconfined run, with the same figure under the budget beside it."""
    pi = {f.name: f for f in budgeted}
    names = [f.name for f in unconfined] + [f.name for f in budgeted if f.name not in {u.name for u in unconfined}]
    by_name = {f.name: f for f in unconfined}
    budget = next((f.budget for f in budgeted), None)
    head = ["figure", "value", "baseline (same run)", "ratio", "goal", "met",
            f"Pi budget ({budget}% of 1 core)" if budget else "Pi budget", "met (Pi)"]
    rows = []
    for name in names:
        f, p = by_name.get(name), pi.get(name)
        def met(x: Figure | None) -> str:
            return "-" if x is None or x.met is None else ("yes" if x.met else "**no**")
        ref = f or p
        rows.append([name, _num(f.value, f.unit) if f else "-",
                     (f"{_num(f.baseline, f.unit)} {f.against}".strip() if f and f.baseline is not None else "-"),
                     _num(f.ratio) if f else "-", ref.goal or "-", met(f),
                     (_num(p.value, p.unit) + (f" (ratio {_num(p.ratio)})" if p.ratio is not None else "")) if p
                     else "-", met(p)])
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    fmt = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([fmt(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(fmt, rows)])


def main() -> int:
    from tests.bench.budget import PI4_PERCENT

    unconfined = load(results_path(None))
    budgeted = load(results_path(PI4_PERCENT))
    if not unconfined and not budgeted:
        print("no benchmark figures recorded yet: run `make bench`", file=sys.stderr)
        return 1
    print(table(unconfined, budgeted))
    missed = [f.name for f in unconfined + budgeted if f.met is False]
    if missed:
        print(f"\ngoals missed: {', '.join(sorted(set(missed)))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
