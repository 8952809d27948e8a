"""`DIR/sweep.json`: the sweep a directory holds (config, grid, fixed overrides, runs).

A directory holds one sweep: asking for another grid or config there is refused, so run
directories of different sweeps never mix in one table. Only the fields that change how
long or how verbosely a run goes (jaxgan.training.workdir.RESUMABLE_FIELDS) may be set anew, e.g.
a larger `num_train_steps` to train every run further.
"""

import json
import pathlib

from jaxgan.launch.plan import Run, Sweep
from jaxgan.runtime.errors import UserError
from jaxgan.runtime.files import write_text
from jaxgan.training.workdir import RESUMABLE_FIELDS

RECORD = "sweep.json"


def read(root: pathlib.Path) -> dict | None:
    path = pathlib.Path(root) / RECORD
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
        if isinstance(record["config"], str) and isinstance(record["grid"], dict):
            return {"overrides": {}, **record}
    except (json.JSONDecodeError, KeyError, TypeError):
        pass
    raise UserError(f"{path} is not a jaxgan sweep record: choose another --root")


def extends(stored: dict, requested: dict) -> bool:
    """Whether `requested` is the stored grid with values added (more seeds, say): the
    same fields in the same order, each keeping every value it had, so every finished
    run stays a run of the sweep."""
    return list(stored) == list(requested) and all(
        set(map(repr, stored[field])) <= set(map(repr, requested[field])) for field in stored
    )


def differences(record: dict, sweep: Sweep) -> list[str]:
    found = []
    if record["config"] != sweep.config:
        found.append(f"config: {record['config']} here, {sweep.config} requested")
    if not extends(record["grid"], sweep.grid):
        found.append(f"grid: {record['grid']} here, {sweep.grid} requested")
    fields = set(record["overrides"]) | set(sweep.overrides)
    for field in sorted(fields - RESUMABLE_FIELDS):
        old = record["overrides"].get(field, "not set")
        new = sweep.overrides.get(field, "not set")
        if old != new:
            found.append(f"--set {field}: {old} here, {new} requested")
    return found


def check_and_write(sweep: Sweep, runs: list[Run]) -> None:
    """Refuses a root that holds another sweep; records this one (before any run). A grid
    that only adds values to the stored one extends the sweep there."""
    root = sweep.root
    if root.exists() and not root.is_dir():
        raise UserError(f"--root {root} is a file: choose a directory")
    record = read(root)
    if record is not None:
        found = differences(record, sweep)
        if found:
            raise UserError(
                f"{root} holds another sweep ({'; '.join(found)}): use a new --root, or "
                f"leave out --config, --grid and --set to continue the one there"
            )
    root.mkdir(parents=True, exist_ok=True)
    record = {
        "config": sweep.config,
        "grid": sweep.grid,
        "overrides": sweep.overrides,
        "runs": [run.name for run in runs],
    }
    write_text(root / RECORD, json.dumps(record, indent=2) + "\n")
