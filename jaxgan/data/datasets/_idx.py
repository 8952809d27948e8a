"""Reading IDX files, the format of (Fashion-)MNIST, plain or gzipped.

An IDX file is: two zero bytes, a type code, the number of dimensions n, then n
big-endian uint32 sizes, then the array's data, big-endian, in C order.
"""

import gzip
import pathlib
import zlib

import numpy as np

from jaxgan.runtime.errors import UserError

# IDX type codes and the big-endian dtypes they mean.
DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_bytes(path: pathlib.Path) -> bytes:
    """The file's bytes, gunzipped when it ends in .gz."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise UserError(f"{path} is a damaged or truncated gzip file ({error})") from error
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror or error}") from error


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """The array in an IDX file's bytes, in native byte order.

    `name` (usually the path) is put in error messages.
    """
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in DTYPES or data[3] == 0:
        raise UserError(
            f"{name} is not an IDX file: it must start with 00 00, a type code among "
            f"{sorted(hex(code) for code in DTYPES)} and a dimension count, got {data[:4].hex()}"
        )
    dtype, ndim = DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise UserError(f"{name} is truncated: its header of {ndim} dimensions is cut short")
    shape = tuple(int(size) for size in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = int(np.prod(shape)) * dtype.itemsize
    found = len(data) - header
    if found != expected:
        problem = "truncated" if found < expected else "longer than its header says"
        raise UserError(
            f"{name} is {problem}: shape {shape} of {dtype.name} needs {expected} bytes of "
            f"data, the file has {found}"
        )
    array = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def read_idx(path: pathlib.Path) -> np.ndarray:
    """The array in an IDX file (`.gz` files are gunzipped), checked against its header."""
    path = pathlib.Path(path)
    return parse_idx(read_bytes(path), str(path))
