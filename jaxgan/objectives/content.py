"""Content losses on a frozen feature network, for SRGAN (Ledig et al. 2017, sec. 2.2.2).

`vgg`: the paper's VGG loss, the mean squared distance between the VGG19 feature maps
phi_5,4 (after the ReLU of the 4th convolution of the 5th block, before its pooling) of
the super-resolved and the original image, the features rescaled by 1/12.75 as the paper
does to bring the loss to the scale of the pixel MSE. The network is torchvision's
`vgg19` (ImageNet weights): inputs RGB in [0, 1] normalised by ImageNet's mean and
standard deviation, grey images repeated to 3 channels. No weights can be downloaded at
run time: the user gives torchvision's state-dict file once (`config.srgan_vgg_weights`);
it is checked, converted to `<cache>/vgg19-features.npz` with a SHA-256 beside it, and
read from there afterwards.

`inception`: the same distance on the FID Inception network's pool3 features (2048-d,
the 299-px resize inside), which ships offline with jaxgan: NOT the paper's loss (global
features of another network), offered where no VGG19 file is at hand.

The loss network's weights enter the train step as an argument (the family's
`frozen_inputs`), never as constants of the compiled program, and are not saved in
checkpoints.
"""

import hashlib
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.cpu import onednn_conv
from jaxgan.metrics import inception_weights, torch_files
from jaxgan.nn import layers
from jaxgan.runtime.errors import UserError
from jaxgan.runtime.files import write_atomically

# VGG19's convolutions up to conv5_4: torchvision's `features` indices, and a 2x2 max
# pooling after the last convolution of each of the first four blocks.
BLOCKS = ((64, 64), (128, 128), (256, 256, 256, 256), (512, 512, 512, 512), (512, 512, 512, 512))
FEATURE_INDICES = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)
FEATURE_SCALE = 1 / 12.75
CONVERTED_NAME = "vgg19-features.npz"
DOWNLOAD = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
WANTED = (
    f"torchvision's VGG19 ImageNet weights (vgg19-dcbb9e9d.pth, from {DOWNLOAD} on a "
    "machine with internet)"
)


def conv_shapes() -> list[tuple[int, int, int, int]]:
    """torchvision's weight shapes (out, in, 3, 3) of the 16 convolutions."""
    shapes, channels = [], 3
    for block in BLOCKS:
        for width in block:
            shapes.append((width, channels, 3, 3))
            channels = width
    return shapes


def read_vgg19(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(kernel HWIO, bias) of each convolution of a torchvision vgg19 state-dict file."""
    try:
        state = torch_files.load(path)
        if not isinstance(state, dict):
            raise ValueError(f"it holds a {type(state).__name__}, not a state dict")
        convs = []
        for index, shape in zip(FEATURE_INDICES, conv_shapes(), strict=True):
            weight = torch_files.array(state[f"features.{index}.weight"])
            bias = torch_files.array(state[f"features.{index}.bias"])
            if weight.shape != shape or bias.shape != shape[:1]:
                raise ValueError(
                    f"features.{index} is {weight.shape}, VGG19's is {shape}: another network"
                )
            convs.append((weight.transpose(2, 3, 1, 0).astype(np.float32), bias.astype(np.float32)))
        extra = [
            k
            for k in state
            if k.startswith("features.") and int(k.split(".")[1]) not in FEATURE_INDICES
        ]
        if extra:
            raise ValueError(f"it has layers VGG19 lacks ({extra[0]}): another network")
    except torch_files.READ_ERRORS as error:
        raise UserError(
            f"{path} is not a readable VGG19 weights file ({type(error).__name__}: {error}): "
            f"give {WANTED}, complete (a truncated download reads so)"
        ) from None
    if not all(np.all(np.isfinite(k)) and np.all(np.isfinite(b)) for k, b in convs):
        raise UserError(f"{path} holds NaN or infinite weights: give {WANTED}")
    return convs


def converted_path() -> Path:
    return inception_weights.cache_dir() / CONVERTED_NAME


def convert(source: str | Path) -> Path:
    """Checks and caches a user's VGG19 file; returns the cache."""
    path = Path(source).expanduser()
    convs = read_vgg19(path)
    destination = converted_path()
    destination.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for number, (kernel, bias) in enumerate(convs):
        arrays[f"conv{number}_kernel"], arrays[f"conv{number}_bias"] = kernel, bias
    write_atomically(destination, lambda f: np.savez(f, **arrays))
    inception_weights.write_checksum(destination)
    return destination


def load_vgg19(source: str | Path | None) -> list[dict[str, np.ndarray]]:
    """The converted weights: of `source` (converted now unless the cache already holds
    this very file's, by its SHA-256), else of the cache; a clear error when neither
    exists. The cache is checked against its checksum on every load."""
    cached = converted_path()
    stamp = cached.with_name(CONVERTED_NAME + ".source-sha256")
    if source:
        path = Path(source).expanduser()
        if not path.is_file():
            raise UserError(f"config.srgan_vgg_weights: {path} does not exist; give {WANTED}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if not (cached.is_file() and stamp.is_file() and stamp.read_text() == digest):
            convert(path)
            write_atomically(stamp, lambda f: f.write(digest.encode()))
    elif not cached.is_file():
        raise UserError(
            "config.srgan_content='vgg' needs VGG19's weights, and none were given yet: "
            f"download {WANTED} and give --config.srgan_vgg_weights=PATH once (it is checked "
            f"and converted into {cached}), or use --config.srgan_content=inception (offline, "
            "not the paper's loss)"
        )
    inception_weights.verify_converted(cached)
    with np.load(cached, allow_pickle=False) as data:
        return [
            {"kernel": data[f"conv{n}_kernel"], "bias": data[f"conv{n}_bias"]}
            for n in range(len(FEATURE_INDICES))
        ]


def _conv_implementation() -> str:
    chosen = layers.resolve_implementation("conv", "auto")
    return chosen if chosen in ("onednn", "xla") else "xla"


def vgg19_features(params: list[dict], images: jax.Array) -> jax.Array:
    """phi_5,4 of images in [-1, 1] (N, H, W, 1 or 3): torchvision's VGG19 `features`
    up to index 35 (the ReLU after conv5_4)."""
    if images.shape[-1] == 1:
        images = jnp.repeat(images, 3, axis=-1)
    x = ((images + 1) / 2 - IMAGENET_MEAN) / IMAGENET_STD
    layer = 0
    for block_number, block in enumerate(BLOCKS):
        for _ in block:
            conv = params[layer]
            x = onednn_conv.conv(
                x, conv["kernel"], (1, 1), ((1, 1), (1, 1)), implementation=_conv_implementation()
            )
            x = jax.nn.relu(x + conv["bias"])
            layer += 1
        if block_number < len(BLOCKS) - 1:
            n, h, w, c = x.shape
            x = x[:, : h // 2 * 2, : w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).max((2, 4))
    return x


def vgg_loss(params: list[dict], output: jax.Array, target: jax.Array) -> jax.Array:
    """The paper's VGG loss: mean squared distance of phi_5,4 / 12.75."""
    difference = (vgg19_features(params, output) - vgg19_features(params, target)) * FEATURE_SCALE
    return jnp.mean(jnp.square(difference))


def load_inception() -> dict:
    return inception_weights.load_params()


def inception_loss(params: dict, output: jax.Array, target: jax.Array) -> jax.Array:
    """Mean squared distance of the FID Inception network's pool3 features (not the
    paper's loss)."""
    from jaxgan.sampling import projection

    features = projection.inception_features(params)
    return jnp.mean(jnp.square(features(output) - features(target)))
