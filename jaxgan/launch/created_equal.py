"""The table of launch/are_gans_created_equal.sh: jaxgan's FIDs per loss beside the best
FIDs Lucic et al. 2018 report ("Are GANs Created Equal?", configs/are_gans_created_equal.py).

    python -m jaxgan.launch.created_equal sweeps/lucic > sweeps/lucic/table.md

ROOT holds one sweep per dataset and loss, ROOT/<dataset>/<loss>/seed=<s>/, each run
scored by `python -m jaxgan.evaluate` (eval/metrics_<step>.json). Per run, the FID is the
lowest over its scored checkpoints, as the study keeps its best checkpoint (with only
the final one scored, that one); the table gives the mean ± std over seeds (sample std)
and the best run, and how many checkpoints each run had scored.
"""

import json
import pathlib
import statistics
import sys

from jaxgan.launch import rundir
from jaxgan.runtime import cli
from jaxgan.runtime.errors import UserError

LOSSES = ("mm", "ns", "lsgan", "wgan", "wgan_gp", "dragan")
DATASETS = ("mnist", "fashion_mnist")
# The best FID per loss of Lucic et al. 2018 (Table: MNIST / Fashion-MNIST, mean ± std of
# the best setting's reruns, as quoted in Dai & Wipf 2019, Table 1); each is the best of a
# search of 100 settings per loss, so one default setting is bounded, not predicted, by it.
PUBLISHED = {
    "mnist": {"mm": (9.8, 0.9), "ns": (6.8, 0.5), "lsgan": (7.8, 0.6), "wgan": (6.7, 0.4),
              "wgan_gp": (20.3, 5.0), "dragan": (7.6, 0.4)},
    "fashion_mnist": {"mm": (29.6, 1.6), "ns": (26.5, 1.6), "lsgan": (30.7, 2.2),
                      "wgan": (21.5, 1.6), "wgan_gp": (24.5, 2.1), "dragan": (27.7, 1.2)},
}  # fmt: skip
NAMES = {"mm": "MM GAN", "ns": "NS GAN", "lsgan": "LSGAN", "wgan": "WGAN", "wgan_gp": "WGAN-GP",
         "dragan": "DRAGAN"}  # fmt: skip


def row(sweep: pathlib.Path) -> tuple[list[float], list[int], list[int]]:
    """Each scored run's best FID, how many checkpoints it had scored, and its samples."""
    best, scored, samples = [], [], []
    for run in sorted(sweep.glob("seed=*")):
        fids = rundir.run_fids(run)
        if fids:
            best.append(min(fids.values()))
            scored.append(len(fids))
            step = min(fids, key=fids.get)
            record = json.loads((run / "eval" / f"metrics_{step}.json").read_text())
            samples.append(int(record["num_samples"]))
    return best, scored, samples


def mean_std(values: list[float]) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.1f} ±—"
    return f"{statistics.fmean(values):.1f} ± {statistics.stdev(values):.1f}"


def table(root: pathlib.Path) -> str:
    if not root.is_dir():
        raise UserError(f"{root} is not a directory: run launch/are_gans_created_equal.sh first")
    lines = []
    for dataset in DATASETS:
        if not (root / dataset).is_dir():
            continue
        lines += [
            f"### {dataset}",
            "",
            "| loss | Lucic et al. best FID | jaxgan FID, mean ± std | jaxgan best | runs "
            "(seeds scored) | checkpoints scored per run | samples |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for loss in LOSSES:
            best, scored, samples = row(root / dataset / loss)
            paper_mean, paper_std = PUBLISHED[dataset][loss]
            lines.append(
                f"| {NAMES[loss]} | {paper_mean} ± {paper_std} | {mean_std(best)} | "
                + (f"{min(best):.1f}" if best else "—")
                + f" | {len(best)} | {'/'.join(map(str, sorted(set(scored)))) or '—'} | "
                + f"{'/'.join(map(str, sorted(set(samples)))) or '—'} |"
            )
        lines.append("")
    if not lines:
        raise UserError(f"{root} has no {' or '.join(DATASETS)} sweep: run the launcher first")
    lines.append(
        "FID of 10,000 samples against the 10,000 test images. Lucic et al.'s numbers are "
        "the best of a search of 100 settings per loss; jaxgan's are the study's default "
        "setting per loss, each run's best scored checkpoint."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    with cli.user_errors():
        if len(argv) != 1:
            raise UserError("usage: python -m jaxgan.launch.created_equal ROOT")
        print(table(pathlib.Path(argv[0])), end="")


if __name__ == "__main__":
    main(sys.argv[1:])
