"""Writing files whole: a crash or a concurrent reader never sees half of one."""

import json
import os
import pathlib
import tempfile
from collections.abc import Callable
from typing import IO, Any

import numpy as np


def write_atomically(path: pathlib.Path, write: Callable[[IO[bytes]], None]) -> None:
    """Calls `write(file)` on a temporary file beside `path`, then renames it to `path`.

    An existing `path` is replaced only once the new content is complete.
    """
    path = pathlib.Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        # mkstemp makes 0600; metrics and caches are meant to be read by others too.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException as error:
        pathlib.Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.filename is None:
            # A failed write (a full disk) names no file: name the one being written.
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise


def write_json(path: pathlib.Path, record: dict[str, Any]) -> None:
    """`record` as indented JSON, atomically; NaN or infinity is refused (not valid JSON)."""
    write_text(path, json.dumps(record, indent=2, allow_nan=False) + "\n")


def write_text(path: pathlib.Path, text: str) -> None:
    """`text` (UTF-8) to `path`, atomically."""
    write_atomically(path, lambda f: f.write(text.encode()))


def save_npz(path: pathlib.Path, **arrays: np.ndarray) -> None:
    """np.savez (uncompressed) to `path`, atomically; the parent folder must exist."""
    write_atomically(path, lambda f: np.savez(f, **arrays))
