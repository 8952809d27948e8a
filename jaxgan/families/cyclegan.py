"""The `cyclegan` family: CycleGAN (Zhu et al. 2017, "Unpaired Image-to-Image
Translation using Cycle-Consistent Adversarial Networks"), as junyanz/pytorch-CycleGAN-
and-pix2pix's `models/cycle_gan_model.py` trains it.

Nets (jaxgan/families/_translation_nets.py): `g_ab` translates domain A to B and `g_ba`
B to A (the reference's G_A and G_B); `d_a` judges domain-A images and `d_b` domain-B
images (the reference's D_B and D_A: its D_A judges G_A's outputs, which are B's).

One step, on a batch {"a": images of A, "b": images of B} (unpaired), in the
reference's order:
- "g" updates g_ab and g_ba together (one Adam each, which is the reference's one Adam
  over both: Adam is elementwise), D fixed: the least-squares GAN loss of each
  translation against its domain's D (target 1), the cycle losses lambda_A |g_ba(g_ab(a))
  - a|_1 and lambda_B |g_ab(g_ba(b)) - b|_1, and the identity losses lambda_idt (lambda_B
  |g_ab(b) - b|_1 + lambda_A |g_ba(a) - a|_1) (L1 as means over pixels).
- "d" updates d_a and d_b on the step's translations drawn through each domain's image
  pool (_image_pool.py, kept in the state): each D's loss is 1/2 (LS(D(real), 1) +
  LS(D(pooled fake), 0)).
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgan.families import (
    SCHEDULE_SETTINGS,
    Context,
    Phase,
    PhaseAux,
    _image_pool,
    _translation_nets,
    refuse_generic_settings,
    stream,
)
from jaxgan.runtime.errors import UserError
from jaxgan.training.state import TrainState, init_net

GENERATOR = "g_ab"
OWN_FIELDS = (
    "cyclegan_blocks",
    "cyclegan_lambda_a",
    "cyclegan_lambda_b",
    "cyclegan_lambda_identity",
    "cyclegan_pool_size",
    "translation_epochs",
    "translation_decay_epochs",
    "translation_epoch_steps",
    "translation_load_size",
    "translation_flip",
)
TWO_DOMAINS = True  # trains on datasets.TwoDomains (unpaired:PATH, mnist_thick)
USES_MODEL = False  # its nets are its own: config.model is not read
POOLS = {"d_a": "pool_a", "d_b": "pool_b"}  # state.extras slot of each D's fakes


def check_config(config: ml_collections.ConfigDict) -> None:
    if config.data_dim:
        raise UserError("the cyclegan family translates images: config.data_dim must be 0")
    if config.image_size % 4 or config.image_size < 24:
        raise UserError(
            f"the ResNet generator halves the image twice and the PatchGAN needs 24 pixels "
            f"for one logit: config.image_size must be a multiple of 4 and >= 24, got "
            f"{config.image_size}"
        )
    for field in ("cyclegan_lambda_a", "cyclegan_lambda_b", "cyclegan_lambda_identity"):
        if config[field] < 0:
            raise UserError(f"config.{field} must be >= 0, got {config[field]}")
    if config.cyclegan_blocks < 1 or config.cyclegan_pool_size < 0:
        raise UserError("config.cyclegan_blocks must be >= 1 and cyclegan_pool_size >= 0")
    check_schedule_and_load_size(config, "cyclegan")


def check_schedule_and_load_size(config: ml_collections.ConfigDict, family: str) -> None:
    """The epoch rule's and the load size's fields (shared with pix2pix); the generic
    schedule, optimiser and average settings, which the reference's Adam with its epoch
    rule and no average leave unread, are refused."""
    epoch_rule = (
        " (its learning rate follows the reference's epoch rule: config.translation_epochs, "
        "translation_decay_epochs)"
    )
    hints = dict.fromkeys(SCHEDULE_SETTINGS, epoch_rule)
    refuse_generic_settings(config, family, ("g_ema_decay",), hints=hints)
    if (
        config.translation_epoch_steps < 0
        or min(config.translation_epochs, config.translation_decay_epochs) < 0
    ):
        raise UserError(
            "config.translation_epoch_steps, translation_epochs and translation_decay_epochs "
            "must be >= 0"
        )
    if config.translation_load_size and config.translation_load_size < config.image_size:
        raise UserError(
            f"config.translation_load_size={config.translation_load_size} is smaller than "
            f"config.image_size={config.image_size}: training crops image_size pixels from "
            "images resized to the load size (0 picks 286/256 of image_size)"
        )


def resolve_config(config: ml_collections.ConfigDict, dataset) -> ml_collections.ConfigDict:
    """The config with translation_epoch_steps taken from the data when it is 0: the
    larger domain's images over batch_size, the reference's epoch (its dataset's len)."""
    if config.translation_epoch_steps:
        return config
    resolved = ml_collections.ConfigDict(config.to_dict())
    resolved.translation_epoch_steps = max(len(dataset) // config.batch_size, 1)
    return resolved


def schedule_note(config: ml_collections.ConfigDict) -> str | None:
    """A console line when num_train_steps is not the reference's length in epochs."""
    epochs = config.translation_epochs + config.translation_decay_epochs
    reference = epochs * config.translation_epoch_steps
    if not config.translation_epoch_steps or config.num_train_steps == reference:
        return None
    epochs_run = config.num_train_steps / config.translation_epoch_steps
    return (
        f"an epoch is {config.translation_epoch_steps} steps: num_train_steps="
        f"{config.num_train_steps} is {epochs_run:.4g} "
        f"epochs, where the reference trains {epochs} ({config.translation_epochs} at the "
        f"full rate, then {config.translation_decay_epochs} decaying): "
        f"--config.num_train_steps={reference} trains as it does"
    )


def build(config: ml_collections.ConfigDict) -> dict[str, nn.Module]:
    def generator():
        return _translation_nets.ResnetGenerator(
            config.num_channels, config.g_width, config.cyclegan_blocks
        )

    def discriminator():
        return _translation_nets.PatchDiscriminator(config.d_width)

    return {
        "g_ab": generator(),
        "g_ba": generator(),
        "d_a": discriminator(),
        "d_b": discriminator(),
    }


def linear_decay_factor(epoch, epochs: int, decay_epochs: int, epoch_count: int = 1):
    """The reference's 'linear' rule (networks.get_scheduler) for the epoch numbered
    `epoch` by train.py's loop (from epoch_count), whose scheduler steps at the end of
    every epoch (current master): 1 for the first `epochs` epochs, then down by
    1 / (decay_epochs + 1) an epoch, 1 / (decay_epochs + 1) in the last: never 0."""
    done = epoch - epoch_count  # scheduler steps taken before this epoch
    return 1.0 - jnp.maximum(0, done + epoch_count - epochs) / (decay_epochs + 1)


def learning_rate(config: ml_collections.ConfigDict, base: float):
    """The base rate, or with config.translation_epoch_steps > 0 the reference's epoch rule
    over steps (epoch = step // translation_epoch_steps + 1; each net updates once a step)."""
    if not config.translation_epoch_steps:
        return base
    return lambda count: (
        base
        * linear_decay_factor(
            count // config.translation_epoch_steps + 1,
            config.translation_epochs,
            config.translation_decay_epochs,
        )
    )


def optimizers(config: ml_collections.ConfigDict) -> dict:
    g_lr = learning_rate(config, config.g_learning_rate)
    d_lr = learning_rate(config, config.d_learning_rate)
    g = optax.adam(g_lr, b1=config.g_beta1, b2=config.g_beta2)
    d = optax.adam(d_lr, b1=config.d_beta1, b2=config.d_beta2)
    return {"g_ab": g, "g_ba": g, "d_a": d, "d_b": d}


def ema_decays(config: ml_collections.ConfigDict) -> dict[str, float]:
    return {}


def sample_inputs(config: ml_collections.ConfigDict) -> str:
    return "image"


def synthetic_batch(config: ml_collections.ConfigDict, rng) -> dict:
    """A step's batch of random images, for benchmarks: {"a", "b"}."""
    shape = (config.d_steps, config.batch_size, *image_shape(config))
    return {name: rng.uniform(-1, 1, shape).astype("float32") for name in ("a", "b")}


PREVIEW_ROWS = 4  # examples of each domain in a training sample strip


def preview_inputs(dataset, config: ml_collections.ConfigDict) -> dict[str, jax.Array]:
    """The fixed images of the training strips: the first PREVIEW_ROWS test images of
    each domain (the first training images, centre-cropped, for a domain without
    test images), in [-1, 1]."""
    from jaxgan.data import pipeline  # the data side, only for training

    inputs = {}
    for name, test, train in (("a", dataset.test_a, dataset.a), ("b", dataset.test_b, dataset.b)):
        chosen = test[:PREVIEW_ROWS]
        if not len(chosen):
            size = pipeline.translation_load_size(config)
            start = (size - config.image_size) // 2
            fitted = pipeline.fit_images(train[:PREVIEW_ROWS], size, config.num_channels)
            chosen = fitted[:, start : start + config.image_size, start : start + config.image_size]
        chosen = pipeline.fit_images(chosen, config.image_size, config.num_channels)
        inputs[name] = jnp.asarray(pipeline.scaled(chosen, config.num_channels))
    return inputs


def side_multiple(config: ml_collections.ConfigDict) -> int:
    """What an image's sides must be multiples of (the generator halves them twice)."""
    return 4


def translate(nets: dict, state: TrainState, direction: str, images: jax.Array) -> jax.Array:
    """g_ab ("AtoB") or g_ba ("BtoA") of images in [-1, 1], as at test time (instance
    normalisation has no statistics: the same function as in training)."""
    name = {"AtoB": "g_ab", "BtoA": "g_ba"}[direction]
    return _apply(nets[name], state.nets[name].params, images)


def preview(state: TrainState, inputs: dict, *, config, nets: dict) -> jax.Array:
    """The training strip: a row per fixed image, input | translation | cycle
    reconstruction, domain A's rows then B's: (rows, 3, H, W, C) in [-1, 1]."""
    del config
    rows = []
    for name, there, back in (("a", "AtoB", "BtoA"), ("b", "BtoA", "AtoB")):
        images = inputs[name]
        translated = translate(nets, state, there, images)
        reconstructed = translate(nets, state, back, translated)
        rows.append(jnp.stack([images, translated, reconstructed], axis=1))
    return jnp.concatenate(rows)


def evaluators(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    return ()


def image_shape(config: ml_collections.ConfigDict) -> tuple[int, int, int]:
    return (config.image_size, config.image_size, config.num_channels)


def init(key: jax.Array, *, config: ml_collections.ConfigDict, nets: dict) -> TrainState:
    txs = optimizers(config)
    *net_keys, run_key = jax.random.split(key, len(nets) + 1)
    example = jnp.zeros((1, *image_shape(config)), jnp.float32)
    states = {
        name: init_net(nets[name], txs[name], net_key, example)
        for name, net_key in zip(sorted(nets), net_keys, strict=True)
    }
    pools = {
        slot: _image_pool.empty(config.cyclegan_pool_size, image_shape(config))
        for slot in POOLS.values()
    }
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        key=jax.random.key_data(run_key),
        nets=states,
        extras=pools,
    )


def least_squares(logits: jax.Array, target: float) -> jax.Array:
    """GANLoss('lsgan'): the mean squared distance of every patch logit to the target."""
    return jnp.mean((logits.astype(jnp.float32) - target) ** 2)


def l1(x: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.mean(jnp.abs(x - y))


def _apply(module: nn.Module, params, x: jax.Array) -> jax.Array:
    return module.apply({"params": params}, x, train=True)


def g_loss(nets: dict, config: ml_collections.ConfigDict, params: dict, ctx: Context):
    a, b = ctx.batch["a"][0], ctx.batch["b"][0]
    state = ctx.state
    translate_ab = functools.partial(_apply, nets["g_ab"], params["g_ab"])
    translate_ba = functools.partial(_apply, nets["g_ba"], params["g_ba"])
    fake_b, fake_a = translate_ab(a), translate_ba(b)
    adversarial_ab = least_squares(_apply(nets["d_b"], state.nets["d_b"].params, fake_b), 1.0)
    adversarial_ba = least_squares(_apply(nets["d_a"], state.nets["d_a"].params, fake_a), 1.0)
    cycle_a = config.cyclegan_lambda_a * l1(translate_ba(fake_b), a)
    cycle_b = config.cyclegan_lambda_b * l1(translate_ab(fake_a), b)
    loss = adversarial_ab + adversarial_ba + cycle_a + cycle_b
    metrics = {
        "g_ab_gan": adversarial_ab,
        "g_ba_gan": adversarial_ba,
        "cycle_a": cycle_a,
        "cycle_b": cycle_b,
    }
    if config.cyclegan_lambda_identity > 0:
        weight = config.cyclegan_lambda_identity
        identity_b = weight * config.cyclegan_lambda_b * l1(translate_ab(b), b)
        identity_a = weight * config.cyclegan_lambda_a * l1(translate_ba(a), a)
        loss = loss + identity_a + identity_b
        metrics.update(identity_a=identity_a, identity_b=identity_b)
    metrics["g_loss"] = loss
    fakes = jax.lax.stop_gradient({"d_b": fake_b, "d_a": fake_a})
    return loss, PhaseAux({}, metrics, {"fakes": fakes})


def d_loss(nets: dict, config: ml_collections.ConfigDict, params: dict, ctx: Context):
    reals = {"d_a": ctx.batch["a"][0], "d_b": ctx.batch["b"][0]}
    total, metrics, pools = 0.0, {}, {}
    for name, slot in POOLS.items():
        key = stream(ctx.key, f"pool {slot}")
        fakes, pools[slot] = _image_pool.query(
            _image_pool.Pool(*ctx.state.extras[slot]), ctx.handoff["fakes"][name], key
        )
        real_logits = _apply(nets[name], params[name], reals[name])
        fake_logits = _apply(nets[name], params[name], fakes)
        loss = 0.5 * (least_squares(real_logits, 1.0) + least_squares(fake_logits, 0.0))
        metrics[f"{name}_loss"] = loss
        total = total + loss
    metrics["d_loss"] = total
    return total, PhaseAux({}, metrics, extras=pools)


def phases(config: ml_collections.ConfigDict, nets: dict) -> list[Phase]:
    return [
        Phase("g", ("g_ab", "g_ba"), loss=functools.partial(g_loss, nets, config)),
        Phase("d", ("d_a", "d_b"), loss=functools.partial(d_loss, nets, config)),
    ]
