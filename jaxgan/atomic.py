"""Writing files atomically: into a temporary file beside the target, then renamed, so
a crash or Ctrl-C never leaves a half-written file under the target's name."""

import os
import pathlib

import numpy as np


def save_npz(path: pathlib.Path, **arrays: np.ndarray) -> None:
    """np.savez (uncompressed) to `path`, atomically; the parent folder must exist."""
    path = pathlib.Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "wb") as f:
            np.savez(f, **arrays)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
