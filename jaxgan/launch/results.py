"""The sweep's table: one row per grid point, seeds aggregated as mean ± std.

`results.csv` has numbers (mean and std columns per metric); `results.md` is a Markdown
table to paste into a paper. Std is the sample std over seeds (ddof=1); with one seed
there is none ("±—"). The best row, in bold, is the lowest mean FID; without FID (no
evaluation) no row is marked, as the final losses of different objectives do not
compare.
"""

import csv
import dataclasses
import io
import math
import statistics

from jaxgan.launch import grid as grid_lib
from jaxgan.launch.plan import Run
from jaxgan.launch.rundir import LOSS_METRICS

SEED = "seed"
BEST_BY = "fid"
# Column order: the evaluation binary's scores, then the training losses; any other
# score of the evaluation binary comes after, by name.
# The mode-collapse benchmarks' scores (jaxgan/metrics/mode_evaluation.py) come before the losses.
MODE_METRICS = ("modes", "hq_pct", "reverse_kl", "kl")
METRIC_ORDER = (
    "fid", "kid", "is", "precision", "recall", "density", "coverage", *MODE_METRICS,
    *LOSS_METRICS,
)  # fmt: skip


@dataclasses.dataclass
class Row:
    point: dict[str, grid_lib.Value]  # the grid values of the row, the seed left out
    runs: list[str]
    finished: int = 0
    values: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    failures: dict[str, str] = dataclasses.field(default_factory=dict)  # run name: error
    best: bool = False

    def mean_std(self, metric: str) -> tuple[float, float | None] | None:
        values = self.values.get(metric)
        if not values:
            return None
        std = statistics.stdev(values) if len(values) > 1 else None
        return statistics.fmean(values), std


@dataclasses.dataclass
class Table:
    axes: list[str]  # grid fields shown as columns (all but seed)
    metrics: list[str]
    rows: list[Row]
    seeds: int  # runs per row


def build(
    runs: list[Run],
    metrics: dict[str, dict[str, float]],
    failures: dict[str, str],
) -> Table:
    """`metrics`: the final metrics of each finished run, by name; `failures`: the
    error line of each failed run. Other runs count as not finished."""
    rows: dict[tuple, Row] = {}
    for run in runs:
        point = {field: v for field, v in run.point.items() if field != SEED}
        row = rows.setdefault(tuple(point.items()), Row(point, []))
        row.runs.append(run.name)
        if run.name in metrics:
            row.finished += 1
            for name, value in metrics[run.name].items():
                row.values.setdefault(name, []).append(value)
        elif run.name in failures:
            row.failures[run.name] = failures[run.name]
    found = {name for row in rows.values() for name in row.values}
    ordered = [m for m in METRIC_ORDER if m in found] + sorted(found - set(METRIC_ORDER))
    table = Table(
        axes=[field for field in runs[0].point if field != SEED],
        metrics=ordered,
        rows=list(rows.values()),
        seeds=len(runs) // len(rows),
    )
    scored = [row for row in table.rows if row.mean_std(BEST_BY) is not None]
    if scored:
        min(scored, key=lambda row: row.mean_std(BEST_BY)[0]).best = True
    return table


def decimals(std: float) -> int:
    """Decimals that show the std to two significant digits (and the mean to match)."""
    return min(max(1 - math.floor(math.log10(std)), 0), 6)


def format_mean_std(summary: tuple[float, float | None] | None) -> str:
    if summary is None:
        return "—"
    mean, std = summary
    if std is None:
        return f"{mean:.4g} ±—"
    if std == 0 or not math.isfinite(std):
        return f"{mean:.4g} ± {std:.4g}"
    places = decimals(std)
    return f"{mean:.{places}f} ± {std:.{places}f}"


def seeds_cell(row: Row) -> str:
    text = f"{row.finished}/{len(row.runs)}"
    unfinished = len(row.runs) - row.finished - len(row.failures)
    notes = [f"{len(row.failures)} failed"] if row.failures else []
    notes += [f"{unfinished} not finished"] if unfinished else []
    return f"{text} ({', '.join(notes)})" if notes else text


def footnote(table: Table) -> str:
    if any(row.best for row in table.rows):
        return f"Bold: lowest mean {BEST_BY.upper()}."
    if set(MODE_METRICS) & set(table.metrics):
        return (
            "Mode-collapse scores: more modes, more high-quality samples (hq_pct) and a "
            "lower KL to the data's spread over the modes are better; no row is marked best."
        )
    return (
        "No row is marked best: without FID the table shows the final training losses, "
        "which do not compare across objectives."
    )


def to_markdown(table: Table, title: str) -> str:
    header = [*table.axes, "seeds", *table.metrics]
    lines = [
        title,
        "",
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    for row in table.rows:
        cells = [grid_lib.format_value(row.point[field]) for field in table.axes]
        cells += [seeds_cell(row)] + [format_mean_std(row.mean_std(m)) for m in table.metrics]
        cells = [cell.replace("|", "\\|") for cell in cells]  # a value's | ends no cell
        if row.best:
            cells = [f"**{cell}**" for cell in cells]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"Mean ± std over {table.seeds} seed(s) (sample std, ddof=1; ±— with one finished "
        "seed). " + footnote(table)
    )
    failures = [(name, error) for row in table.rows for name, error in row.failures.items()]
    if failures:
        lines += ["", "Failed runs:", ""]
        lines += [f"- `{name}`: {error}" for name, error in failures]
    return "\n".join(lines) + "\n"


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    metric_columns = [f"{m}_{part}" for m in table.metrics for part in ("mean", "std")]
    writer.writerow(
        [*table.axes, "seeds_finished", "seeds_failed", "runs", *metric_columns, "best", "errors"]
    )
    for row in table.rows:
        numbers = []
        for metric in table.metrics:
            mean, std = row.mean_std(metric) or (None, None)
            numbers += ["" if mean is None else repr(mean), "" if std is None else repr(std)]
        errors = "; ".join(f"{name}: {error}" for name, error in row.failures.items())
        writer.writerow(
            [
                *(grid_lib.format_value(row.point[field]) for field in table.axes),
                row.finished,
                len(row.failures),
                len(row.runs),
                *numbers,
                int(row.best),
                errors,
            ]
        )
    return out.getvalue()
