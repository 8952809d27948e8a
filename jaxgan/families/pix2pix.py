"""The `pix2pix` family: pix2pix (Isola et al. 2017, "Image-to-Image Translation with
Conditional Adversarial Networks"), as junyanz/pytorch-CycleGAN-and-pix2pix's
`models/pix2pix_model.py` trains it, on paired data (`paired:PATH`).

Nets (jaxgan/families/_translation_nets.py): `g`, the U-Net (unet_256: 8
downsamplings, BatchNorm, dropout 0.5 in the three innermost 8-width levels), and `d`,
the 70x70 PatchGAN with BatchNorm judging the input and an output together (their
channels concatenated: D(A, B)).

One step, on a batch {"a": inputs, "b": their targets}, in the reference's order:
- "d" first: 1/2 (BCE(D(A, G(A)), 0) + BCE(D(A, B), 1)) over every patch logit, G(A)
  made by the step's G (its dropout drawn from the step's key);
- "g" then, through the updated D: BCE(D(A, G(A)), 1) + lambda_L1 |G(A) - B|_1 (100,
  L1 as a mean over pixels), G(A) the same translation as D's (same parameters, same
  dropout), and G's BatchNorm statistics advanced once, as the reference's one forward.
BatchNorm normalises by each batch's statistics in training. At test time the reference
keeps training mode (its test.py calls model.eval() only with --eval): batch statistics
and dropout on, which `translate` does too (dropout from a fixed key, so a translation
is repeatable). Adam 2e-4 (0.5, 0.999); the learning rate follows the reference's epoch
rule (cyclegan.learning_rate).
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgan.families import Context, Phase, PhaseAux, _translation_nets, cyclegan, stream
from jaxgan.runtime.errors import UserError
from jaxgan.training.state import TrainState, init_net

GENERATOR = "g"
OWN_FIELDS = (
    "pix2pix_lambda_l1",
    "pix2pix_downs",
    "pix2pix_direction",
    "translation_epochs",
    "translation_decay_epochs",
    "translation_epoch_steps",
    "translation_load_size",
    "translation_flip",
)
TWO_DOMAINS = True  # trains on datasets.TwoDomains with pairs (paired:PATH)
PAIRED = True
USES_MODEL = False
DIRECTIONS = ("AtoB",)  # one generator: translation B -> A is another run
# The dropout key of test-time translations (the reference keeps dropout on at test).
TEST_DROPOUT_SEED = 0

resolve_config = cyclegan.resolve_config
schedule_note = cyclegan.schedule_note
preview_inputs = cyclegan.preview_inputs
sample_inputs = cyclegan.sample_inputs
image_shape = cyclegan.image_shape
synthetic_batch = cyclegan.synthetic_batch


def check_config(config: ml_collections.ConfigDict) -> None:
    if config.data_dim:
        raise UserError("the pix2pix family translates images: config.data_dim must be 0")
    side = 2**config.pix2pix_downs
    if config.pix2pix_downs < 5 or config.image_size % side:
        raise UserError(
            f"the U-Net halves the image config.pix2pix_downs={config.pix2pix_downs} times "
            f"(at least 5): config.image_size must be a multiple of {side}, got "
            f"{config.image_size}"
        )
    if config.pix2pix_direction not in ("AtoB", "BtoA"):
        raise UserError(
            f"config.pix2pix_direction must be 'AtoB' or 'BtoA', got {config.pix2pix_direction!r}"
        )
    if config.pix2pix_lambda_l1 < 0:
        raise UserError(f"config.pix2pix_lambda_l1 must be >= 0, got {config.pix2pix_lambda_l1}")
    cyclegan.check_schedule_and_load_size(config, "pix2pix")


def build(config: ml_collections.ConfigDict) -> dict[str, nn.Module]:
    return {
        "g": _translation_nets.UnetGenerator(
            config.num_channels, config.g_width, config.pix2pix_downs
        ),
        "d": _translation_nets.PatchDiscriminator(config.d_width, norm="batch"),
    }


def optimizers(config: ml_collections.ConfigDict) -> dict:
    g_lr = cyclegan.learning_rate(config, config.g_learning_rate)
    d_lr = cyclegan.learning_rate(config, config.d_learning_rate)
    return {
        "g": optax.adam(g_lr, b1=config.g_beta1, b2=config.g_beta2),
        "d": optax.adam(d_lr, b1=config.d_beta1, b2=config.d_beta2),
    }


def ema_decays(config: ml_collections.ConfigDict) -> dict[str, float]:
    return {}


def evaluators(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    return ()


def init(key: jax.Array, *, config: ml_collections.ConfigDict, nets: dict) -> TrainState:
    txs = optimizers(config)
    g_key, d_key, run_key = jax.random.split(key, 3)
    image = jnp.zeros((1, *image_shape(config)), jnp.float32)
    pair = jnp.concatenate([image, image], axis=-1)
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        key=jax.random.key_data(run_key),
        nets={
            "g": init_net(nets["g"], txs["g"], g_key, image),
            "d": init_net(nets["d"], txs["d"], d_key, pair),
        },
    )


def _run(module, net, params, x, key=None):
    """A net in training mode: (output, its new BatchNorm statistics)."""
    variables = {"params": params, **net.collections}
    rngs = None if key is None else {"dropout": key}
    return module.apply(variables, x, train=True, mutable=list(net.collections), rngs=rngs)


def bce(logits: jax.Array, target: float) -> jax.Array:
    """GANLoss('vanilla'): BCE with logits against the target, mean over patches."""
    logits = logits.astype(jnp.float32)
    return jnp.mean(optax.sigmoid_binary_cross_entropy(logits, jnp.full_like(logits, target)))


def pair(a: jax.Array, b: jax.Array) -> jax.Array:
    return jnp.concatenate([a, b], axis=-1)


def d_loss(nets: dict, config, params: dict, ctx: Context):
    a, b = ctx.batch["a"][0], ctx.batch["b"][0]
    g, d = ctx.state.nets["g"], ctx.state.nets["d"]
    # G's statistics advance in the "g" phase, on this same translation.
    fake, _ = _run(nets["g"], g, g.params, a, stream(ctx.key, "g dropout"))
    fake = jax.lax.stop_gradient(fake)
    # The reference's order: D on the fake pair, then on the real one.
    fake_logits, collections = _run(nets["d"], d, params["d"], pair(a, fake))
    d = d.replace(collections=collections)
    real_logits, collections = _run(nets["d"], d, params["d"], pair(a, b))
    loss = 0.5 * (bce(fake_logits, 0.0) + bce(real_logits, 1.0))
    metrics = {
        "d_loss": loss,
        "d_real": jnp.mean(nn.sigmoid(real_logits)),
        "d_fake": jnp.mean(nn.sigmoid(fake_logits)),
    }
    return loss, PhaseAux({"d": collections}, metrics)


def g_loss(nets: dict, config, params: dict, ctx: Context):
    a, b = ctx.batch["a"][0], ctx.batch["b"][0]
    g, d = ctx.state.nets["g"], ctx.state.nets["d"]
    fake, g_collections = _run(nets["g"], g, params["g"], a, stream(ctx.key, "g dropout"))
    logits, d_collections = _run(nets["d"], d, d.params, pair(a, fake))
    adversarial = bce(logits, 1.0)
    l1 = config.pix2pix_lambda_l1 * jnp.mean(jnp.abs(fake - b))
    loss = adversarial + l1
    metrics = {"g_loss": loss, "g_gan": adversarial, "g_l1": l1}
    return loss, PhaseAux({"g": g_collections, "d": d_collections}, metrics)


def phases(config: ml_collections.ConfigDict, nets: dict) -> list[Phase]:
    return [
        Phase("d", ("d",), loss=functools.partial(d_loss, nets, config)),
        Phase("g", ("g",), loss=functools.partial(g_loss, nets, config)),
    ]


def side_multiple(config: ml_collections.ConfigDict) -> int:
    """What an image's sides must be multiples of: the U-Net halves them `downs` times."""
    return 2**config.pix2pix_downs


def translate(nets: dict, state: TrainState, direction: str, images: jax.Array) -> jax.Array:
    """G of images in [-1, 1] as the reference's test.py runs it (training mode: batch
    statistics, dropout on, from a fixed key); "AtoB" only."""
    if direction != "AtoB":
        raise UserError("a pix2pix run translates A to B only: train another run for B to A")
    key = jax.random.key(TEST_DROPOUT_SEED)
    output, _ = _run(nets["g"], state.nets["g"], state.nets["g"].params, images, key)
    return output


def preview(state: TrainState, inputs: dict, *, config, nets: dict) -> jax.Array:
    """The training strip: a row per fixed pair, input | translation | target:
    (rows, 3, H, W, C) in [-1, 1]."""
    del config
    translated = translate(nets, state, "AtoB", inputs["a"])
    return jnp.stack([inputs["a"], translated, inputs["b"]], axis=1)
