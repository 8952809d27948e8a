"""The cache of decoded datasets: one .npz per dataset version, so epochs and restarts
read arrays instead of decoding images again.

It lives in jaxgan.runtime.cache.cache_dir(). Files are never reused for other inputs
(their name is a hash of them), so deleting the folder is always safe.
"""

import os
import pathlib
import zipfile

import numpy as np

from jaxgan.runtime.cache import cache_dir
from jaxgan.runtime.errors import UserError


def writable_dir() -> pathlib.Path:
    """The cache folder, created; checked before hours of decoding, not after."""
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"cannot create the dataset cache folder {directory} ({error.strerror}): set "
            "JAXGAN_CACHE_DIR to a writable folder"
        ) from error
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UserError(
            f"the dataset cache folder {directory} is not writable: set JAXGAN_CACHE_DIR "
            "to a writable folder"
        )
    return directory


def read(path: pathlib.Path) -> dict[str, np.ndarray] | None:
    """The arrays of a cache file, or None when it is absent or damaged (then rebuilt)."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None
