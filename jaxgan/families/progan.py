"""The `progan` family: progressive growing of GANs (Karras et al. 2018, "Progressive
Growing of GANs for Improved Quality, Stability, and Variation"), as the official code
(github.com/tkarras/progressive_growing_of_gans: networks.py, loss.py, train.py) trains it.

Nets (jaxgan/families/_progan_nets.py): `g` (G_paper) and `d` (D_paper), every
resolution's layers present from the start, each net holding its level of detail `lod`
in the collection "progress"; `g` keeps a moving average (decay config.g_ema_decay,
0.999 per step in the reference).

The schedule counts images shown to D (train.py's TrainingSchedule): with P = T_train +
T_trans kimg (config.progan_training_kimg, config.progan_transition_kimg) and kimg the
images shown before the step (evaluated every config.progan_minibatch_repeats steps, 4),
phase p = floor(kimg / P), t = kimg - p P,
  lod = max(R - log2(initial resolution) - p - max(t - T_train, 0) / T_trans, 0):
T_train kimg stable at a resolution, then T_trans kimg fading the next one in (lod falls
by 1; the fade f = lod - floor(lod) weights the lower resolution's path, in G, in D and in
the real images). Each step writes its lod into both nets, so a checkpoint samples (and
is scored) at the point of the schedule it was saved at.

One step, as the reference's iteration (D_repeats 1):
- "d": fakes G(z) of fresh z ~ N(0, I); reals pooled to the level's resolution, faded by
  f with their 2x-pooled-and-upsampled selves, upsampled back to the full resolution;
  L_D = D(fake) - D(real) + lambda (||grad D(x_hat)|| - target)^2 / target^2
        + epsilon_drift D(real)^2,
  x_hat = real + u (fake - real), u ~ U[0, 1) per sample, the norm over the whole
  full-resolution image; lambda 10, target 1, epsilon_drift 0.001; means over the batch.
- "g": L_G = -D(G(z)) for fresh z.
Adam (0, 0.99, 1e-8), lr 1e-3 for both; both optimisers' states (moments and step count)
are reset whenever floor(lod) or ceil(lod) changes (reset_opt_for_new_lod: at the start
of every fade-in and every stable phase), by `reset_at_new_lod` in their own state, so a
resumed run is exact.

What differs from the reference (the config's docstring repeats it): one batch size for
the whole run (the reference's preset changes it by resolution: 64 at 32 px); the reals
of a lower level are pooled from the full-resolution float images (the reference stores
each level rounded to uint8); the moving average of G is taken after the step's G update
(the reference updates it beside the D step, before G's); TF1's Adam places epsilon
outside the bias correction (1e-8: no measurable difference).
"""

import functools
import math
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgan.families import (
    Context,
    Phase,
    PhaseAux,
    _progan_nets,
    refuse_generic_settings,
    refuse_image_size_not_doubling,
    refuse_ungroupable_batch,
    stream,
)
from jaxgan.runtime.errors import UserError
from jaxgan.training.state import TrainState, init_net

GENERATOR = "g"
OWN_FIELDS = (
    "progan_training_kimg",
    "progan_transition_kimg",
    "progan_initial_resolution",
    "progan_minibatch_repeats",
    "progan_fmap_base",
    "progan_fmap_max",
    "progan_mbstd_group_size",
    "progan_gp_weight",
    "progan_gp_target",
    "progan_drift",
    "progan_reset_optimizer",
)
USES_MODEL = False


def spec(config: ml_collections.ConfigDict) -> _progan_nets.Spec:
    return _progan_nets.Spec(
        resolution_log2=int(math.log2(config.image_size)),
        channels=config.num_channels,
        latent_dim=config.latent_dim,
        fmap_base=config.progan_fmap_base,
        fmap_max=config.progan_fmap_max,
        mbstd_group_size=config.progan_mbstd_group_size,
    )


def _power_of_two(value) -> bool:
    return isinstance(value, int) and value > 0 and value & (value - 1) == 0


def check_config(config: ml_collections.ConfigDict) -> None:
    if config.data_dim:
        raise UserError("the progan family grows images: config.data_dim must be 0")
    refuse_image_size_not_doubling(config, "progan", "growth of G and D")
    initial = config.progan_initial_resolution
    if not _power_of_two(initial) or not 4 <= initial <= config.image_size:
        raise UserError(
            f"config.progan_initial_resolution must be a power of two from 4 to "
            f"config.image_size={config.image_size}, got {initial}"
        )
    train, fade = config.progan_training_kimg, config.progan_transition_kimg
    if min(train, fade) < 0 or train + fade <= 0:
        raise UserError(
            "config.progan_training_kimg and progan_transition_kimg must be >= 0, not both 0, "
            f"got {train} and {fade}"
        )
    if config.progan_minibatch_repeats < 1:
        raise UserError(
            f"config.progan_minibatch_repeats must be >= 1, got {config.progan_minibatch_repeats}"
        )
    if config.conditional:
        raise UserError("the progan family is unconditional here: config.conditional must be False")
    refuse_ungroupable_batch(config, "progan_mbstd_group_size")
    refuse_generic_settings(config, "progan")
    if min(config.progan_fmap_base, config.progan_fmap_max) < 1:
        raise UserError("config.progan_fmap_base and progan_fmap_max must be >= 1")


def build(config: ml_collections.ConfigDict) -> dict[str, nn.Module]:
    architecture, initial = spec(config), initial_lod(config)
    return {
        "g": _progan_nets.Generator(architecture, initial),
        "d": _progan_nets.Discriminator(architecture, initial),
    }


# --- Schedule ------------------------------------------------------------------------


def initial_lod(config: ml_collections.ConfigDict) -> float:
    return math.log2(config.image_size) - math.log2(config.progan_initial_resolution)


def lod_at_images(shown, config: ml_collections.ConfigDict):
    """The reference's TrainingSchedule lod after `shown` images (an integer array):
    phases counted in whole images, so boundaries are exact at any length."""
    train = round(config.progan_training_kimg * 1000)
    fade = round(config.progan_transition_kimg * 1000)
    shown = jnp.asarray(shown, jnp.int32)
    phase = shown // (train + fade)
    within = shown - phase * (train + fade)
    lod = initial_lod(config) - phase.astype(jnp.float32)
    if fade > 0:
        lod = lod - jnp.maximum(within - train, 0).astype(jnp.float32) / fade
    return jnp.maximum(lod, 0.0)


def lod_at_step(step, config: ml_collections.ConfigDict) -> jax.Array:
    """The lod of train step `step`: the schedule at the images shown when its group of
    progan_minibatch_repeats steps began."""
    repeats = config.progan_minibatch_repeats
    shown = jnp.asarray(step, jnp.int32) // repeats * repeats * config.batch_size
    return lod_at_images(shown, config).astype(jnp.float32)


class ResetState(NamedTuple):
    updates: jax.Array  # int32: updates made so far (the step of the next one)
    inner: Any


def reset_at_new_lod(inner: optax.GradientTransformation, lod_of_update):
    """`inner` with its state re-initialised before any update whose lod has another
    floor or ceiling than the previous update's (the reference's reset_opt_for_new_lod)."""

    def init(params):
        return ResetState(jnp.zeros((), jnp.int32), inner.init(params))

    def update(updates, state, params=None):
        before = lod_of_update(jnp.maximum(state.updates - 1, 0))
        now = lod_of_update(state.updates)
        changed = (jnp.floor(now) != jnp.floor(before)) | (jnp.ceil(now) != jnp.ceil(before))
        fresh = inner.init(updates if params is None else params)
        inner_state = jax.tree.map(lambda f, o: jnp.where(changed, f, o), fresh, state.inner)
        updates, inner_state = inner.update(updates, inner_state, params)
        return updates, ResetState(state.updates + 1, inner_state)

    return optax.GradientTransformation(init, update)


def optimizers(config: ml_collections.ConfigDict) -> dict:
    txs = {
        "g": optax.adam(config.g_learning_rate, b1=config.g_beta1, b2=config.g_beta2, eps=1e-8),
        "d": optax.adam(config.d_learning_rate, b1=config.d_beta1, b2=config.d_beta2, eps=1e-8),
    }
    if not config.progan_reset_optimizer:
        return txs
    lod_of_update = functools.partial(lod_at_step, config=config)
    return {name: reset_at_new_lod(tx, lod_of_update) for name, tx in txs.items()}


def ema_decays(config: ml_collections.ConfigDict) -> dict[str, float]:
    return {"g": config.g_ema_decay} if config.g_ema_decay > 0 else {}


def sample_inputs(config: ml_collections.ConfigDict) -> str:
    return "z"


def evaluators(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    return ("images",)


def init(key: jax.Array, *, config: ml_collections.ConfigDict, nets: dict) -> TrainState:
    txs = optimizers(config)
    g_key, d_key, run_key = jax.random.split(key, 3)
    z = jnp.zeros((1, config.latent_dim), jnp.float32)
    image = jnp.zeros((1, config.image_size, config.image_size, config.num_channels))
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        key=jax.random.key_data(run_key),
        nets={
            "g": init_net(nets["g"], txs["g"], g_key, z),
            "d": init_net(nets["d"], txs["d"], d_key, image),
        },
    )


# --- Losses --------------------------------------------------------------------------


def _at(lod: jax.Array, params) -> dict:
    """A net's variables at `lod`."""
    return {"params": params, "progress": {"lod": lod}}


def d_loss(nets: dict, config, params: dict, ctx: Context):
    lod = lod_at_step(ctx.state.step, config)
    architecture = spec(config)
    reals = _progan_nets.at_lod(_progan_nets.fade_reals, lod, architecture, ctx.batch["image"][0])
    n = reals.shape[0]
    z = jax.random.normal(stream(ctx.key, "d z"), (n, config.latent_dim))
    fakes = jax.lax.stop_gradient(nets["g"].apply(_at(lod, ctx.state.nets["g"].params), z))

    def scores(images):
        return nets["d"].apply(_at(lod, params["d"]), images)[:, 0]

    real_scores, fake_scores = scores(reals), scores(fakes)
    u = jax.random.uniform(stream(ctx.key, "gp mix"), (n, 1, 1, 1))
    mixed = reals + (fakes - reals) * u
    grads = jax.grad(lambda x: jnp.sum(scores(x)))(mixed)
    norms = jnp.sqrt(jnp.sum(jnp.square(grads), axis=(1, 2, 3)))
    target = config.progan_gp_target
    penalty = config.progan_gp_weight / target**2 * jnp.square(norms - target)
    drift = config.progan_drift * jnp.square(real_scores)
    loss = jnp.mean(fake_scores - real_scores + penalty + drift)
    metrics = {
        "d_loss": loss,
        "d_real": jnp.mean(real_scores),
        "d_fake": jnp.mean(fake_scores),
        "d_gp": jnp.mean(penalty),
        "d_drift": jnp.mean(drift),
        "lod": lod,
    }
    progress = {"progress": {"lod": lod}}
    return loss, PhaseAux({"g": progress, "d": progress}, metrics)


def g_loss(nets: dict, config, params: dict, ctx: Context):
    lod = lod_at_step(ctx.state.step, config)
    z = jax.random.normal(stream(ctx.key, "g z"), (config.batch_size, config.latent_dim))
    fakes = nets["g"].apply(_at(lod, params["g"]), z)
    loss = -jnp.mean(nets["d"].apply(_at(lod, ctx.state.nets["d"].params), fakes))
    return loss, PhaseAux({}, {"g_loss": loss})


def phases(config: ml_collections.ConfigDict, nets: dict) -> list[Phase]:
    return [
        Phase("d", ("d",), loss=functools.partial(d_loss, nets, config)),
        Phase("g", ("g",), loss=functools.partial(g_loss, nets, config)),
    ]
