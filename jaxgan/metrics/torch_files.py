"""Torch files read without torch, and without running any code they hold: a closed
list of pickle globals (tensors, storages, ordered dicts); every `__torch__.*` class comes
back as a ScriptModule whose attributes unpickling fills. Both torch.save formats: the zip
archive (torch >= 1.6 and TorchScript: `PREFIX/data.pkl` plus `PREFIX/data/KEY` storage
entries) and the legacy stream (pickled magic number, protocol and system info, the object,
the storage keys, then each storage's element count and bytes).
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class ScriptModule:
    """Stands in for any `__torch__.*` class: unpickling only fills its __dict__."""


def rebuild_tensor(storage: np.ndarray, offset: int, size, stride) -> np.ndarray:
    """The float32 array a torch tensor views in its storage, which the view must lie
    inside (a file's numbers are not trusted: a view past the storage would read other
    memory)."""
    size, stride = tuple(int(n) for n in size), tuple(int(n) for n in stride)
    if len(size) != len(stride) or offset < 0 or min(size + stride, default=0) < 0:
        raise ValueError(f"a tensor of size {size}, stride {stride}, offset {offset}")
    if all(size):
        last = offset + sum((n - 1) * step for n, step in zip(size, stride, strict=True))
        if last >= len(storage):
            raise ValueError(f"a tensor reaches element {last} of a storage of {len(storage)}")
    itemsize = storage.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(s * itemsize for s in stride)
    )
    return np.array(view, dtype=np.float32)


class Storage:
    """A legacy-format storage whose bytes come after the pickle that names it."""

    def __init__(self, key: str, dtype: np.dtype, numel: int):
        self.key, self.dtype, self.numel, self.array = key, dtype, numel, None


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def numpy(self) -> np.ndarray:
        array = self.storage.array if isinstance(self.storage, Storage) else self.storage
        if array is None:
            raise ValueError("a tensor's storage is missing from the file")
        return rebuild_tensor(array, self.offset, self.size, self.stride)


class _StateDict(collections.OrderedDict):
    """OrderedDict that takes (and drops) the `_metadata` torch sets on state dicts."""

    def __setstate__(self, state):
        pass


class Unpickler(pickle.Unpickler):
    """A closed list of globals (so the file runs no code); tensors come back as Tensor."""

    GLOBALS = {
        ("torch._utils", "_rebuild_tensor_v2"): lambda storage, offset, size, stride, *_: Tensor(
            storage, offset, size, stride
        ),
        ("torch", "FloatStorage"): np.dtype("<f4"),
        ("torch", "LongStorage"): np.dtype("<i8"),
        ("collections", "OrderedDict"): _StateDict,
        ("torch.jit._pickle", "build_intlist"): list,
    }

    def __init__(self, file, load_storage):
        super().__init__(file)
        self._load_storage = load_storage

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith("__torch__."):
            return ScriptModule
        try:
            return self.GLOBALS[module, name]
        except KeyError:
            raise pickle.UnpicklingError(f"unexpected global {module}.{name}") from None

    def persistent_load(self, pid: Any):
        if pid[0] != "storage" or not isinstance(pid[1], np.dtype):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        return self._load_storage(pid)


def read_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as archive:
        prefix = archive.namelist()[0].split("/")[0] + "/"

        def storage(pid):
            _, dtype, key, _location, numel = pid
            blob = archive.read(f"{prefix}data/{key}")
            return np.frombuffer(blob, dtype=dtype, count=numel)

        with archive.open(prefix + "data.pkl") as data:
            return Unpickler(data, storage).load()


def read_legacy(path: Path) -> Any:
    """torch.save's format before torch 1.6: pickles of a magic number, the protocol
    version and system info; the object; the storage keys; then each storage's bytes
    (an int64 element count, then the elements)."""
    data = io.BytesIO(path.read_bytes())
    storages: dict[str, Storage] = {}

    def storage(pid):
        _, dtype, key, _location, numel, view = pid
        if view is not None:
            raise pickle.UnpicklingError("storage views are not expected in a state dict")
        return storages.setdefault(key, Storage(key, dtype, int(numel)))

    def no_storage(pid):
        raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")

    magic = Unpickler(data, no_storage).load()
    if magic != LEGACY_MAGIC:
        raise pickle.UnpicklingError("not a torch file (no torch.save magic number)")
    for _ in range(2):  # protocol version, system info
        Unpickler(data, no_storage).load()
    root = Unpickler(data, storage).load()
    for key in Unpickler(data, no_storage).load():
        (count,) = struct.unpack("<q", data.read(8))
        entry = storages[key]
        if count != entry.numel:
            raise ValueError(f"storage {key} holds {count} elements, its tensors say {entry.numel}")
        blob = data.read(count * entry.dtype.itemsize)
        if len(blob) != count * entry.dtype.itemsize:
            raise EOFError("the file ends inside a tensor")
        entry.array = np.frombuffer(blob, dtype=entry.dtype)
    return root


# What reading a damaged, truncated or foreign torch file (and walking what it holds)
# can raise: a reader turns these into one line naming the file.
READ_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    MemoryError,
    struct.error,
    zipfile.BadZipFile,
)


def array(value) -> np.ndarray:
    return value.numpy() if isinstance(value, Tensor) else np.asarray(value)


def load(path: Path) -> Any:
    """The object a torch file pickles, tensors as Tensor (array() gives numpy)."""
    return read_zip(path) if zipfile.is_zipfile(path) else read_legacy(path)
