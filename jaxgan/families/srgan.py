"""The `srgan` family: SRResNet and SRGAN (Ledig et al. 2017, "Photo-Realistic Single
Image Super-Resolution Using a Generative Adversarial Network"), in the paper's two
stages (`srgan_stage`):

- "mse": SRResNet, G alone trained on the mean squared error to the high-resolution
  image (the PSNR-oriented network; D is built but not updated);
- "gan": SRGAN, usually started from an SRResNet run (`--config.init_from=RUN`): D
  updated on BCE of real and super-resolved images, then G on the content loss plus
  srgan_adversarial_weight (1e-3) times the non-saturating adversarial loss
  (-log D(G(x)), as the paper's l_Gen).

Content loss (`srgan_content`, jaxgan/objectives/content.py): "mse", the pixel MSE (the
paper's SRGAN-MSE); "vgg", the paper's VGG loss (VGG19's phi_5,4 features, after the
ReLU, divided by 12.75), from torchvision's VGG19 weights the user gives once
(`srgan_vgg_weights`: checked, converted and cached); "inception", the same distance on
the FID Inception network's pool3 features, offline, and not the paper's loss. The loss
network's weights are the family's frozen inputs: an argument of the compiled step, not
part of the state.

Nets (jaxgan/families/_sr_nets.py): `g` SRResNet x`srgan_scale` (2 or 4; 16 blocks of
64), `d` SRGAN's 8-convolution discriminator. Batches: {"image": high-resolution crops,
"low": their bicubic downscalings} (real_batches below), both in [-1, 1].
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from PIL import Image

from jaxgan.families import (
    Context,
    Phase,
    PhaseAux,
    _sr_nets,
    pix2pix,
    refuse_generic_settings,
)
from jaxgan.objectives import content as content_losses
from jaxgan.runtime.errors import UserError
from jaxgan.training.state import TrainState, init_net

GENERATOR = "g"
OWN_FIELDS = (
    "srgan_stage",
    "srgan_scale",
    "srgan_blocks",
    "srgan_content",
    "srgan_vgg_weights",
    "srgan_adversarial_weight",
    "translation_load_size",
    "translation_flip",
)
USES_MODEL = False
DIRECTIONS = ("AtoB",)
MIN_SIDE = 1  # SRResNet pads with zeros and never downsamples: any size
STAGES = ("mse", "gan")
CONTENT_LOSSES = ("mse", "vgg", "inception")


def check_config(config: ml_collections.ConfigDict) -> None:
    if config.data_dim:
        raise UserError("the srgan family super-resolves images: config.data_dim must be 0")
    if config.srgan_stage not in STAGES:
        raise UserError(f"config.srgan_stage must be one of {STAGES}, got {config.srgan_stage!r}")
    if config.srgan_scale not in (2, 4):
        raise UserError(f"config.srgan_scale must be 2 or 4, got {config.srgan_scale!r}")
    if config.srgan_content not in CONTENT_LOSSES:
        raise UserError(
            f"config.srgan_content must be one of {CONTENT_LOSSES}, got {config.srgan_content!r}"
        )
    if config.image_size % config.srgan_scale:
        raise UserError(
            f"config.image_size (the high-resolution crop, {config.image_size}) must be a "
            f"multiple of config.srgan_scale={config.srgan_scale}: the low-resolution input "
            "is image_size / srgan_scale"
        )
    if config.translation_load_size and config.translation_load_size < config.image_size:
        raise UserError(
            f"config.translation_load_size={config.translation_load_size} is smaller than the "
            f"crop config.image_size={config.image_size}"
        )
    if config.srgan_blocks < 1 or config.srgan_adversarial_weight < 0:
        raise UserError("config.srgan_blocks must be >= 1 and srgan_adversarial_weight >= 0")
    refuse_generic_settings(config, "srgan", ("g_ema_decay",))  # constant-rate Adam, no average


def data_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """The config the dataset is read with: images at the load size, which the crops
    are taken from (translation_load_size; 0 keeps image_size: every image whole)."""
    if not config.translation_load_size:
        return config
    resized = ml_collections.ConfigDict(config.to_dict())
    resized.image_size = config.translation_load_size
    return resized


def build(config: ml_collections.ConfigDict) -> dict[str, nn.Module]:
    return {
        "g": _sr_nets.SRResNet(
            config.num_channels, config.srgan_scale, config.g_width, config.srgan_blocks
        ),
        "d": _sr_nets.SRDiscriminator(config.d_width),
    }


def optimizers(config: ml_collections.ConfigDict) -> dict:
    return {
        "g": optax.adam(config.g_learning_rate, b1=config.g_beta1, b2=config.g_beta2),
        "d": optax.adam(config.d_learning_rate, b1=config.d_beta1, b2=config.d_beta2),
    }


def ema_decays(config: ml_collections.ConfigDict) -> dict[str, float]:
    return {}


def evaluators(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    return ()


def sample_inputs(config: ml_collections.ConfigDict) -> str:
    return "image"


def low_size(config: ml_collections.ConfigDict) -> int:
    return config.image_size // config.srgan_scale


def synthetic_batch(config: ml_collections.ConfigDict, rng) -> dict:
    """A step's batch of random images, for benchmarks: {"image", "low"}."""
    high = (1, config.batch_size, config.image_size, config.image_size, config.num_channels)
    low = (*high[:2], low_size(config), low_size(config), config.num_channels)
    return {
        "image": rng.uniform(-1, 1, high).astype(np.float32),
        "low": rng.uniform(-1, 1, low).astype(np.float32),
    }


def init(key: jax.Array, *, config: ml_collections.ConfigDict, nets: dict) -> TrainState:
    txs = optimizers(config)
    g_key, d_key, run_key = jax.random.split(key, 3)
    channels = config.num_channels
    low = jnp.zeros((1, low_size(config), low_size(config), channels), jnp.float32)
    high = jnp.zeros((1, config.image_size, config.image_size, channels), jnp.float32)
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        key=jax.random.key_data(run_key),
        nets={
            "g": init_net(nets["g"], txs["g"], g_key, low),
            "d": init_net(nets["d"], txs["d"], d_key, high),
        },
    )


# Nets in training mode and the BCE of their logits: as pix2pix's.
_run, bce = pix2pix._run, pix2pix.bce


def needs_frozen_inputs(config: ml_collections.ConfigDict) -> bool:
    return config.srgan_content != "mse"


def frozen_inputs(config: ml_collections.ConfigDict) -> dict:
    """The loss network's weights (read once by the loop, passed to every step)."""
    if config.srgan_content == "vgg":
        return {"content": content_losses.load_vgg19(config.srgan_vgg_weights)}
    return {"content": content_losses.load_inception()}


def content_loss(config, output: jax.Array, target: jax.Array, frozen=None) -> jax.Array:
    output = output.astype(jnp.float32)
    if config.srgan_content == "vgg":
        return content_losses.vgg_loss(frozen["content"], output, target)
    if config.srgan_content == "inception":
        return content_losses.inception_loss(frozen["content"], output, target)
    return jnp.mean((output - target) ** 2)


def d_loss(nets: dict, config, params: dict, ctx: Context):
    low, high = ctx.batch["low"][0], ctx.batch["image"][0]
    g, d = ctx.state.nets["g"], ctx.state.nets["d"]
    fake = jax.lax.stop_gradient(_run(nets["g"], g, g.params, low)[0])
    real_logits, collections = _run(nets["d"], d, params["d"], high)
    d = d.replace(collections=collections)
    fake_logits, collections = _run(nets["d"], d, params["d"], fake)
    loss = bce(real_logits, 1.0) + bce(fake_logits, 0.0)
    metrics = {
        "d_loss": loss,
        "d_real": jnp.mean(nn.sigmoid(real_logits)),
        "d_fake": jnp.mean(nn.sigmoid(fake_logits)),
    }
    return loss, PhaseAux({"d": collections}, metrics)


def g_loss(nets: dict, config, params: dict, ctx: Context):
    low, high = ctx.batch["low"][0], ctx.batch["image"][0]
    g = ctx.state.nets["g"]
    output, g_collections = _run(nets["g"], g, params["g"], low)
    content = content_loss(config, output, high, ctx.batch.get("frozen"))
    metrics = {"g_content": content}
    loss, collections = content, {"g": g_collections}
    if config.srgan_stage == "gan":
        d = ctx.state.nets["d"]
        logits, collections["d"] = _run(nets["d"], d, d.params, output)
        adversarial = config.srgan_adversarial_weight * bce(logits, 1.0)
        loss = loss + adversarial
        metrics["g_adversarial"] = adversarial
    metrics["g_loss"] = loss
    return loss, PhaseAux(collections, metrics)


def phases(config: ml_collections.ConfigDict, nets: dict) -> list[Phase]:
    g_phase = Phase("g", ("g",), loss=functools.partial(g_loss, nets, config))
    if config.srgan_stage == "mse":
        return [g_phase]
    return [Phase("d", ("d",), loss=functools.partial(d_loss, nets, config)), g_phase]


def resized(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """uint8 (N, H, W, C) -> (N, height, width, C), bicubic (Pillow's, which widens its
    kernel when shrinking, as MATLAB's imresize does; the two differ in detail)."""
    mode = "L" if images.shape[-1] == 1 else "RGB"
    out = [
        np.asarray(
            Image.fromarray(image[..., 0] if mode == "L" else image, mode).resize(
                (width, height), Image.Resampling.BICUBIC
            )
        )
        for image in images
    ]
    return np.stack(out).reshape(len(images), height, width, images.shape[-1])


def downscale(images: np.ndarray, scale: int) -> np.ndarray:
    """The low-resolution inputs: each image bicubic-downscaled by `scale`."""
    return resized(images, images.shape[1] // scale, images.shape[2] // scale)


def upscale_bicubic(images: np.ndarray, scale: int) -> np.ndarray:
    """The bicubic baseline: each image bicubic-upscaled by `scale`."""
    return resized(images, images.shape[1] * scale, images.shape[2] * scale)


def real_batches(dataset, config, start_batch, process_index=0, process_count=1):
    """One step's {"image": high-resolution crops, "low": their bicubic downscalings},
    float32 (1, B_local, ...) in [-1, 1]: each image of the batch (the input pipeline's
    order, resumable) cropped at random to image_size (and mirrored at random with
    translation_flip), then downscaled by srgan_scale, inside the pipeline."""
    from jaxgan.data import pipeline

    size = config.translation_load_size or config.image_size
    images = pipeline.fit_images(dataset.images, size, config.num_channels)
    if pipeline.batches_per_epoch(len(images), config.batch_size) == 0:
        raise UserError(
            f"the dataset has {len(images)} images, fewer than one batch of "
            f"{config.batch_size}: lower config.batch_size"
        )
    rows = pipeline.process_rows(config.batch_size, process_index, process_count)
    batch_number = start_batch
    while True:
        indices = pipeline.batch_indices(len(images), config.batch_size, config.seed, batch_number)
        rng = np.random.default_rng([config.seed, batch_number, 1])
        crops = pipeline.random_crops(
            images[indices], config.image_size, rng, config.translation_flip
        )
        crops = crops[rows]
        batch_number += 1
        yield {
            "image": pipeline.scaled(crops, config.num_channels)[None],
            "low": pipeline.scaled(downscale(crops, config.srgan_scale), config.num_channels)[None],
        }


def side_multiple(config: ml_collections.ConfigDict) -> int:
    return 1


def output_scale(config: ml_collections.ConfigDict) -> int:
    return config.srgan_scale


def translate(nets: dict, state: TrainState, direction: str, images: jax.Array) -> jax.Array:
    """G of low-resolution images in [-1, 1], BatchNorm on its moving averages."""
    del direction
    g = state.nets["g"]
    return nets["g"].apply({"params": g.params, **g.collections}, images, train=False)


def preview_inputs(dataset, config: ml_collections.ConfigDict) -> dict[str, jax.Array]:
    """The strips' fixed images: the first 4 of the dataset, centre-cropped."""
    from jaxgan.data import pipeline

    size = config.translation_load_size or config.image_size
    images = pipeline.fit_images(dataset.images[:4], size, config.num_channels)
    start = (size - config.image_size) // 2
    crops = images[:, start : start + config.image_size, start : start + config.image_size]
    low = downscale(crops, config.srgan_scale)
    return {
        "high": jnp.asarray(pipeline.scaled(crops, config.num_channels)),
        "low": jnp.asarray(pipeline.scaled(low, config.num_channels)),
        "bicubic": jnp.asarray(
            pipeline.scaled(upscale_bicubic(low, config.srgan_scale), config.num_channels)
        ),
    }


def preview(state: TrainState, inputs: dict, *, config, nets: dict) -> jax.Array:
    """The training strip: a row per fixed image, bicubic | super-resolved | original."""
    del config
    output = translate(nets, state, "AtoB", inputs["low"])
    return jnp.stack([inputs["bicubic"], output, inputs["high"]], axis=1)
