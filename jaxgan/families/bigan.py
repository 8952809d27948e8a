"""The `bigan` family: BiGAN (Donahue et al. 2017, "Adversarial Feature Learning") and
ALI (Dumoulin et al. 2017, "Adversarially Learned Inference").

An encoder E: x -> z and a generator G: z -> x are trained together against a
discriminator D(x, z) of joint pairs: (x, E(x)) is real, (G(z), z) is fake. As in both
references' code, E, G and D are updated simultaneously from the same state on one
batch: phase "eg" takes E's and G's gradient against D as it is, and hands the pairs it
made to phase "d", which updates D on them (so D never sees the new E and G early).

Losses (the references'): D minimises the binary cross-entropy of real against fake,
each half weighted 1/2; E and G minimise the same with the labels swapped (the
non-saturating form). BiGAN's E is deterministic; ALI's (config.bigan_encoder =
"gaussian") outputs a mean and a log standard deviation, and z = mu + sigma * eps.
The nets are in _bigan_nets.py; the evaluator (reconstruction error and 1-NN accuracy
of E's features) in jaxgan/metrics/bigan.py.
"""

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
    _bigan_nets,
    refuse_generic_settings,
    stream,
)
from jaxgan.nn import models
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import latents
from jaxgan.training import schedules
from jaxgan.training.state import NetState, TrainState, init_net, split_variables

GENERATOR = "g"
OWN_FIELDS = (
    "bigan_nets",
    "bigan_encoder",
    "bigan_latent",
    "bigan_d_dropout",
    "bigan_weight_decay",
)


def check_config(config: ml_collections.ConfigDict) -> None:
    if config.data_dim:
        raise UserError("the bigan family trains on images: config.data_dim must be 0")
    for field, allowed in (
        ("bigan_nets", ("mlp", "conv")),
        ("bigan_encoder", ("deterministic", "gaussian")),
        ("bigan_latent", ("uniform", "normal")),
    ):
        if config[field] not in allowed:
            raise UserError(f"config.{field} must be one of {list(allowed)}, got {config[field]!r}")
    if not 0 <= config.bigan_d_dropout < 1:
        raise UserError(f"config.bigan_d_dropout must be in [0, 1), got {config.bigan_d_dropout}")
    if config.bigan_weight_decay < 0:
        raise UserError(f"config.bigan_weight_decay must be >= 0, got {config.bigan_weight_decay}")
    # Adam for every net, as BiGAN's code; schedules and averages are the generic ones.
    generic_ones = (*SCHEDULE_SETTINGS, "ema_start", "ema_collections")
    refuse_generic_settings(config, "bigan", reads=generic_ones)


def build(config: ml_collections.ConfigDict) -> dict[str, nn.Module]:
    shape = models.data_shape(config)
    outputs = config.latent_dim * (2 if config.bigan_encoder == "gaussian" else 1)
    if config.bigan_nets == "mlp":
        return {
            "e": _bigan_nets.MLPEncoder(config.latent_dim, outputs),
            "g": _bigan_nets.MLPGenerator(shape),
            "d": _bigan_nets.MLPDiscriminator(dropout=config.bigan_d_dropout),
        }
    return {
        "e": _bigan_nets.ConvEncoder(outputs, config.d_width),
        "g": _bigan_nets.ConvGenerator(shape, config.g_width),
        "d": _bigan_nets.ConvDiscriminator(config.d_width, config.bigan_d_dropout),
    }


def optimizers(config: ml_collections.ConfigDict) -> dict:
    """Adam for each net, E with G's settings (BiGAN's code updates E with G's updater),
    after the L2 weight decay BiGAN adds to every gradient."""

    def adam(lr, b1, b2, net):
        lr = schedules.learning_rate(config, lr, net=net)  # each net updates once per step
        return optax.chain(
            optax.add_decayed_weights(config.bigan_weight_decay), optax.adam(lr, b1=b1, b2=b2)
        )

    g = adam(config.g_learning_rate, config.g_beta1, config.g_beta2, "g")
    d = adam(config.d_learning_rate, config.d_beta1, config.d_beta2, "d")
    return {"e": g, "g": g, "d": d}


def ema_decays(config: ml_collections.ConfigDict) -> dict[str, float]:
    return {"g": config.g_ema_decay} if config.g_ema_decay > 0 else {}


def sample_inputs(config: ml_collections.ConfigDict) -> str:
    return "z"


def evaluators(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    return ("images", "bigan")


def init(key: jax.Array, *, config: ml_collections.ConfigDict, nets: dict) -> TrainState:
    e_key, g_key, d_key, run_key = jax.random.split(key, 4)
    txs = optimizers(config)
    x = jnp.zeros((1, *models.data_shape(config)), jnp.float32)
    z = jnp.zeros((1, config.latent_dim), jnp.float32)
    e = init_net(nets["e"], txs["e"], e_key, x)
    g = init_net(nets["g"], txs["g"], g_key, z)
    d_params, d_collections = split_variables(nets["d"].init(d_key, x, z, train=False))
    d = NetState(d_params, d_collections, txs["d"].init(d_params))
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        key=jax.random.key_data(run_key),
        nets={"e": e, "g": g, "d": d},
    )


def latent_distribution(config: ml_collections.ConfigDict) -> str:
    """The prior every sampler draws G's latents from (jaxgan/sampling/latents.py)."""
    return config.bigan_latent


def prior(key: jax.Array, num: int, config: ml_collections.ConfigDict) -> jax.Array:
    """Training's latents: the one draw every sampler uses (latent_distribution above)."""
    return latents.prior(key, num, config)


def code(outputs: jax.Array, config: ml_collections.ConfigDict, key: jax.Array | None):
    """z of E's outputs: 2 sigmoid - 1 for a uniform prior (BiGAN's logits_to_recon),
    the outputs as they are for a normal one; a Gaussian encoder samples mu + sigma eps
    (its mean when key is None)."""
    if config.bigan_encoder == "gaussian":
        mean, log_std = jnp.split(outputs, 2, axis=-1)
        outputs = (
            mean if key is None else mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape)
        )
    return 2 * nn.sigmoid(outputs) - 1 if config.bigan_latent == "uniform" else outputs


def _run(module, net, params, *inputs, rngs=None):
    variables = {"params": params, **net.collections}
    return module.apply(variables, *inputs, train=True, mutable=list(net.collections), rngs=rngs)


def phases(config: ml_collections.ConfigDict, nets: dict) -> list[Phase]:
    def bce_halves(real_logits, fake_logits, real_label):
        """1/2 BCE of reals labelled `real_label`, plus 1/2 of fakes labelled the other."""
        real = optax.sigmoid_binary_cross_entropy(
            real_logits, jnp.full_like(real_logits, real_label)
        )
        fake = optax.sigmoid_binary_cross_entropy(
            fake_logits, jnp.full_like(fake_logits, 1 - real_label)
        )
        return 0.5 * jnp.mean(real) + 0.5 * jnp.mean(fake)

    def judge(d_params, d_net, x, z, key):
        return _run(nets["d"], d_net, d_params, x, z, rngs={"dropout": key})

    def eg_loss(params, ctx: Context):
        state, x = ctx.state, ctx.batch["image"][0]
        e, g, d = state.nets["e"], state.nets["g"], state.nets["d"]
        outputs, e_collections = _run(nets["e"], e, params["e"], x)
        z_real = code(outputs, config, stream(ctx.key, "encoder"))
        z_fake = prior(stream(ctx.key, "z"), x.shape[0], config)
        x_fake, g_collections = _run(nets["g"], g, params["g"], z_fake)
        dropout = stream(ctx.key, "eg dropout")
        real_logits, _ = judge(d.params, d, x, z_real, jax.random.fold_in(dropout, 0))
        fake_logits, _ = judge(d.params, d, x_fake, z_fake, jax.random.fold_in(dropout, 1))
        loss = bce_halves(real_logits, fake_logits, 0.0)  # the labels swapped
        pairs = jax.lax.stop_gradient((z_real, x_fake, z_fake))
        collections = {"e": e_collections, "g": g_collections}
        # E's and G's shared loss, logged as g_loss.
        return loss, PhaseAux(collections, {"g_loss": loss}, {"pairs": pairs})

    def d_loss(params, ctx: Context):
        x = ctx.batch["image"][0]
        z_real, x_fake, z_fake = ctx.handoff["pairs"]
        d, dropout = ctx.state.nets["d"], stream(ctx.key, "d dropout")
        real_logits, collections = judge(params["d"], d, x, z_real, jax.random.fold_in(dropout, 0))
        d = d.replace(collections=collections)
        fake_logits, collections = judge(
            params["d"], d, x_fake, z_fake, jax.random.fold_in(dropout, 1)
        )
        loss = bce_halves(real_logits, fake_logits, 1.0)
        metrics = {
            "d_loss": loss,
            "d_real": jnp.mean(nn.sigmoid(real_logits)),
            "d_fake": jnp.mean(nn.sigmoid(fake_logits)),
        }
        return loss, PhaseAux({"d": collections}, metrics)

    return [Phase("eg", ("e", "g"), loss=eg_loss), Phase("d", ("d",), loss=d_loss)]
