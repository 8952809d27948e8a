"""Writing the launcher's own files atomically (temporary name, then rename), so an
interrupted launcher never leaves a half-written table or script."""

import os
import pathlib


def write_text(path: pathlib.Path, text: str) -> None:
    path = pathlib.Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temporary.write_text(text)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
