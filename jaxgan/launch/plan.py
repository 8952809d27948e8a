"""A sweep and its runs: which config, which values, which workdir each run trains in."""

import dataclasses
import hashlib
import pathlib
import re

import ml_collections

from jaxgan.config.loading import load_config
from jaxgan.launch import grid as grid_lib
from jaxgan.runtime.errors import UserError

# Longest run directory name; most filesystems allow 255 bytes, and a margin leaves
# room for the temporary names Orbax and the launcher put beside it.
MAX_NAME = 200


@dataclasses.dataclass(frozen=True)
class Sweep:
    config: str  # the config file as an absolute path, with its `:ARGUMENT` if any
    grid: grid_lib.Grid
    overrides: dict[str, grid_lib.Value]
    root: pathlib.Path


@dataclasses.dataclass(frozen=True)
class Run:
    index: int
    name: str
    point: dict[str, grid_lib.Value]  # this run's value of every grid field
    workdir: pathlib.Path
    num_train_steps: int


def absolute_spec(spec: str) -> str:
    """`configs/dcgan.py:64` with the file made absolute, so that the commands work from
    any directory (a cluster job's, say)."""
    path, colon, argument = spec.partition(":")
    return f"{pathlib.Path(path).resolve()}{colon}{argument}"


def load_base_config(spec: str) -> ml_collections.ConfigDict:
    try:
        return load_config(spec)
    except UserError:
        raise
    except Exception as error:  # the config file is the user's code: any failure is bad input
        raise UserError(f"config {spec} failed to load: {type(error).__name__}: {error}") from None


def run_name(point: dict[str, grid_lib.Value]) -> str:
    """`loss=wasserstein,penalty=wgan_gp,seed=1`, with characters a filesystem or shell
    may mangle (`/`, `:`, spaces...) replaced by `_`."""
    name = ",".join(f"{field}={grid_lib.format_value(v)}" for field, v in point.items())
    safe = re.sub(r"[^A-Za-z0-9._=,+-]", "_", name)
    if len(safe) > MAX_NAME:
        digest = hashlib.sha1(name.encode()).hexdigest()[:10]
        safe = f"{safe[: MAX_NAME - 11]}-{digest}"
    return safe


def plan_runs(sweep: Sweep, base: ml_collections.ConfigDict) -> list[Run]:
    runs, seen = [], {}
    for index, point in enumerate(grid_lib.points(sweep.grid)):
        name = run_name(point)
        if name in seen:
            raise UserError(
                f"grid points {seen[name]} and {point} both get the run directory {name!r}: "
                "make the values differ in letters or digits"
            )
        seen[name] = point
        steps = point.get("num_train_steps", sweep.overrides.get("num_train_steps"))
        steps = base.num_train_steps if steps is None else steps
        runs.append(Run(index, name, point, sweep.root / name, steps))
    return runs
