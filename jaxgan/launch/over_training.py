"""FID over training, several sweeps side by side, aligned by the real images D has seen.

    python -m jaxgan.launch.over_training sweeps/growing/progan_py_fashion \\
        sweeps/growing/dcgan_py_32

Each ROOT is a sweep of `python -m jaxgan.launch.sweep` (ROOT/seed=<s>/) whose runs were
scored at several checkpoints (`config.fid_every_steps`, or `jaxgan.evaluate` on each
checkpoint): eval/metrics_<step>.json. A checkpoint's images are step x batch_size x
d_steps, the real images D has been shown (each D step draws its own batch), so that
configs with different batches and D steps compare at equal data, as the ProGAN and
StyleGAN2 papers count training length. A row per image count scored by any sweep, a
column per sweep: FID mean ± std over the seeds scored there (sample std), "—" where none
was; then each run's last step and whether it finished, since a run that stopped on a
non-finite loss has no later rows.
"""

import json
import pathlib
import statistics
import sys

from jaxgan.launch import record, rundir
from jaxgan.runtime import cli
from jaxgan.runtime.errors import UserError


def images_per_step(run: pathlib.Path) -> int:
    """Real images D sees per train step, from the run's stored config."""
    path = run / "config.json"
    try:
        config = json.loads(path.read_text())["config"]
        return int(config["batch_size"]) * int(config.get("d_steps", 1))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError(f"{path} cannot be read as a jaxgan run's config ({error})") from error


def sweep_scores(sweep: pathlib.Path) -> dict[int, list[float]]:
    """FIDs per image count over the sweep's runs (one per run that scored that count)."""
    scores: dict[int, list[float]] = {}
    for run in sorted(sweep.glob("seed=*")):
        fids = rundir.run_fids(run)
        if not fids:
            continue
        per_step = images_per_step(run)
        for step, fid in fids.items():
            scores.setdefault(step * per_step, []).append(fid)
    return scores


def column_name(sweep: pathlib.Path) -> str:
    """The sweep's config (file:argument) as its sweep record names it, else its folder."""
    stored = record.read(sweep)
    return pathlib.Path(stored["config"]).name if stored else sweep.name


def cell(values: list[float] | None) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.fmean(values):.1f} ± {statistics.stdev(values):.1f} ({len(values)})"


def table(sweeps: list[pathlib.Path]) -> str:
    for sweep in sweeps:
        if not sweep.is_dir():
            raise UserError(f"{sweep} is not a directory: run its sweep first")
    scores = [sweep_scores(sweep) for sweep in sweeps]
    counts = sorted({images for per_sweep in scores for images in per_sweep})
    if not counts:
        raise UserError(
            "no scored checkpoint in "
            + ", ".join(map(str, sweeps))
            + ": set config.fid_every_steps, or run python -m jaxgan.evaluate on the runs"
        )
    names = [column_name(sweep) for sweep in sweeps]
    lines = [
        "| real images shown | " + " | ".join(names) + " |",
        "| ---: |" + " ---: |" * len(names),
    ]
    for images in counts:
        lines.append(f"| {images:,} | " + " | ".join(cell(s.get(images)) for s in scores) + " |")
    lines += ["", "FID, mean ± std over seeds (runs scored) where more than one run was scored."]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    with cli.user_errors():
        if not argv:
            raise UserError("usage: python -m jaxgan.launch.over_training SWEEP [SWEEP ...]")
        print(table([pathlib.Path(arg) for arg in argv]), end="")


if __name__ == "__main__":
    main(sys.argv[1:])
