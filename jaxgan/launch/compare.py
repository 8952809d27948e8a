"""One table from several sweeps: a row per grid point of each, labelled by its config.

    python -m jaxgan.launch.compare sweeps/ring8/gan sweeps/ring8/pack2 ...

Each ROOT is a finished (or partly finished) sweep of `python -m jaxgan.launch.sweep`; its
rows are read from ROOT/results.csv, so the numbers are the ones its own table shows. The
mode-collapse laboratory (launch/mode_collapse.sh) runs one sweep over seeds per remedy
and prints their comparison with this.
"""

import csv
import pathlib
import sys

from jaxgan.launch import record, results
from jaxgan.runtime import cli
from jaxgan.runtime.errors import UserError

FIRST_NON_AXIS = "seeds_finished"


def rows_of(root: pathlib.Path) -> list[dict[str, str]]:
    path = root / "results.csv"
    try:
        with path.open(newline="") as f:
            return list(csv.DictReader(f))
    except OSError as error:
        raise UserError(f"{path} cannot be read ({error.strerror}): run the sweep first") from error


def label(root: pathlib.Path, row: dict[str, str]) -> str:
    """The sweep's config (file:argument) and the row's grid values other than the seed."""
    stored = record.read(root) or {}
    config = pathlib.Path(stored.get("config", str(root))).name
    names = list(row)
    axes = names[: names.index(FIRST_NON_AXIS)]
    return " ".join([config, *(f"{axis}={row[axis]}" for axis in axes)])


def cell(row: dict[str, str], metric: str) -> str:
    mean, std = row.get(f"{metric}_mean", ""), row.get(f"{metric}_std", "")
    if not mean:
        return "—"
    return results.format_mean_std((float(mean), float(std) if std else None))


def table(roots: list[pathlib.Path]) -> str:
    labelled = [(label(root, row), row) for root in roots for row in rows_of(root)]
    found = {
        name.removesuffix("_mean") for _, row in labelled for name in row if name.endswith("_mean")
    }
    metrics = [m for m in results.METRIC_ORDER if m in found] + sorted(
        found - set(results.METRIC_ORDER)
    )
    header = ["config", "seeds", *metrics]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for name, row in labelled:
        seeds = f"{row[FIRST_NON_AXIS]}/{row['runs']}"
        cells = [name, seeds, *(cell(row, metric) for metric in metrics)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n\nMean ± std over seeds (sample std, ddof=1; ±— with one).\n"


def main(argv: list[str]) -> None:
    with cli.user_errors():
        if not argv:
            raise UserError("usage: python -m jaxgan.launch.compare ROOT [ROOT ...]")
        print(table([pathlib.Path(root) for root in argv]), end="")


if __name__ == "__main__":
    main(sys.argv[1:])
