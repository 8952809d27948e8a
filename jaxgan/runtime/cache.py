"""Where jaxgan keeps what it can rebuild: decoded datasets, converted weights, reference
features, compiled helpers.

One folder for all of them, so one setting moves them and deleting it is always safe
(everything in it is rebuilt on demand): $JAXGAN_CACHE_DIR, else $XDG_CACHE_HOME/jaxgan,
else ~/.cache/jaxgan.
"""

import os
import pathlib


def cache_dir() -> pathlib.Path:
    explicit = os.environ.get("JAXGAN_CACHE_DIR")
    if explicit:
        return pathlib.Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = pathlib.Path(xdg).expanduser() if xdg else pathlib.Path.home() / ".cache"
    return base / "jaxgan"
