"""The `stylegan2` family: StyleGAN2 (Karras et al. 2020, "Analyzing and Improving the
Image Quality of StyleGAN") as NVlabs/stylegan2-ada-pytorch trains it (training/loss.py
StyleGAN2Loss, training/training_loop.py), without ADA, in pure JAX (no custom kernels).

Nets (jaxgan/families/_stylegan2_nets.py): `g` (mapping + skip synthesis; its tracked
w_avg in the collection "stats", the constant noise maps in "buffers") and `d` (resnet
or orig blocks, minibatch stddev, label projection when conditional).

One step = the reference's phases in its order, each with its own latents:
- "g_main": softplus(-D(G(z))), style mixing with probability stylegan2_style_mixing
  (0.9): one cutoff in [1, num_ws - 1] and one coin per batch, ws after the cutoff from
  a second z (that mapping call leaves w_avg alone);
- "g_pl" every stylegan2_g_reg_interval (4) steps: the path-length penalty on half the
  batch (pl_batch_shrink 2): lengths = sqrt(mean over ws of |d sum(G(w) * y) / dw|^2),
  y ~ N(0, 1) / sqrt(H W); pl_mean <- pl_mean + 0.01 (mean(lengths) - pl_mean) (kept in
  state.extras, starting at 0; the penalty uses the updated mean, not detached, as the
  reference); loss = interval x pl_weight (2) x mean((lengths - pl_mean)^2);
- "d_main": softplus(D(G(z))) + softplus(-D(x));
- "d_r1" every stylegan2_d_reg_interval (16) steps: interval x gamma / 2 x |dD(x)/dx|^2.
Every training-mode mapping call updates w_avg (decay 0.995), the D step's included.
Adam (0, 0.99, eps 1e-8) for both, its learning rate x k/(k+1) and betas ^ k/(k+1) for a
net with a lazy regulariser every k steps (main and regulariser phases share its state).
G's moving average: beta = 0.5 ** (batch / ema_nimg), ema_nimg = stylegan2_ema_kimg x
1000, capped at images-shown x stylegan2_ema_rampup when the ramp-up is set (so the
average starts as a copy); w_avg and the noise maps are the live G's (the reference
copies buffers).

What differs from the reference is listed in configs/stylegan2.py.
"""

import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgan.families import (
    Context,
    Phase,
    PhaseAux,
    _stylegan2_nets,
    refuse_generic_settings,
    refuse_image_size_not_doubling,
    refuse_ungroupable_batch,
    stream,
)
from jaxgan.runtime.errors import UserError
from jaxgan.training import finetune
from jaxgan.training.state import TrainState, init_net

GENERATOR = "g"
OWN_FIELDS = (
    "stylegan2_mapping_layers",
    "stylegan2_channel_base",
    "stylegan2_channel_max",
    "stylegan2_conv_clamp",
    "stylegan2_d_architecture",
    "stylegan2_mbstd_group_size",
    "stylegan2_r1_gamma",
    "stylegan2_pl_weight",
    "stylegan2_pl_decay",
    "stylegan2_pl_batch_shrink",
    "stylegan2_style_mixing",
    "stylegan2_g_reg_interval",
    "stylegan2_d_reg_interval",
    "stylegan2_ema_kimg",
    "stylegan2_ema_rampup",
    "stylegan2_num_fp16_res",
    # Shared with the gan family (which lists them too): conditioning on the labels, and
    # Freeze-D (here in the reference's numbering of D's layers: frozen_d_layers).
    "conditional",
    "freeze_d_layers",
)
USES_MODEL = False


def spec(config: ml_collections.ConfigDict) -> _stylegan2_nets.Spec:
    return _stylegan2_nets.Spec(
        resolution=config.image_size,
        channels=config.num_channels,
        z_dim=config.latent_dim,
        w_dim=config.latent_dim,
        c_dim=config.num_classes if config.conditional else 0,
        mapping_layers=config.stylegan2_mapping_layers,
        channel_base=config.stylegan2_channel_base,
        channel_max=config.stylegan2_channel_max,
        conv_clamp=config.stylegan2_conv_clamp or None,
        d_architecture=config.stylegan2_d_architecture,
        mbstd_group_size=config.stylegan2_mbstd_group_size,
        dtype=config.compute_dtype,
        num_fp16_res=config.stylegan2_num_fp16_res,
    )


def check_config(config: ml_collections.ConfigDict) -> None:
    if config.data_dim:
        raise UserError("the stylegan2 family makes images: config.data_dim must be 0")
    refuse_image_size_not_doubling(config, "stylegan2", "synthesis")
    if config.stylegan2_d_architecture not in ("resnet", "orig"):
        raise UserError(
            "config.stylegan2_d_architecture must be 'resnet' or 'orig', got "
            f"{config.stylegan2_d_architecture!r}"
        )
    for field in ("stylegan2_g_reg_interval", "stylegan2_d_reg_interval"):
        if not isinstance(config[field], int) or config[field] < 0:
            raise UserError(
                f"config.{field} must be an integer >= 0 (0: every step), got {config[field]!r}"
            )
    refuse_ungroupable_batch(config, "stylegan2_mbstd_group_size")
    shrink = config.stylegan2_pl_batch_shrink
    if config.stylegan2_pl_weight and (shrink < 1 or config.batch_size // shrink < 1):
        raise UserError(
            f"config.stylegan2_pl_batch_shrink={shrink} leaves no sample of the batch of "
            f"{config.batch_size} for the path-length penalty"
        )
    if not config.sample_with_running_stats or config.standing_stats_batches:
        raise UserError(
            "the stylegan2 family samples with its stored w_avg and noise maps: leave "
            "config.sample_with_running_stats True and config.standing_stats_batches 0"
        )
    refuse_generic_settings(config, "stylegan2", ("g_ema_decay",))
    frozen_d_layers(config)
    if not 0 <= config.stylegan2_style_mixing <= 1:
        raise UserError(
            f"config.stylegan2_style_mixing is a probability, got {config.stylegan2_style_mixing}"
        )


def build(config: ml_collections.ConfigDict) -> dict[str, nn.Module]:
    architecture = spec(config)
    return {
        "g": _stylegan2_nets.Generator(architecture),
        "d": _stylegan2_nets.Discriminator(architecture),
    }


def d_layers(config: ml_collections.ConfigDict) -> list[str]:
    """D's layers as the reference numbers them for Freeze-D (train.py --freezed;
    networks.py DiscriminatorBlock's trainable_gen): block by block from the top
    resolution, its fromrgb (first block only), conv0, conv1, then the 1x1 skip
    ('resnet'). That is construction order, not call order (the skip runs first). The
    epilogue (b4_*) and the label mapping are not counted: never frozen."""
    names = []
    for log2 in range(int(math.log2(config.image_size)), 2, -1):
        res = 2**log2
        if res == config.image_size:
            names.append(f"b{res}_fromrgb")
        names += [f"b{res}_conv0", f"b{res}_conv1"]
        if config.stylegan2_d_architecture == "resnet":
            names.append(f"b{res}_skip")
    return names


def frozen_d_layers(config: ml_collections.ConfigDict) -> list[str]:
    """The first config.freeze_d_layers of d_layers: their parameters get zero updates
    (the reference makes them buffers); gradients still flow through them."""
    count, layers = config.freeze_d_layers, d_layers(config)
    if count > len(layers):
        raise UserError(
            f"config.freeze_d_layers={count}: this D has {len(layers)} layers Freeze-D "
            f"counts ({', '.join(layers)}; the 4x4 epilogue is never frozen): freeze at "
            f"most {len(layers)}"
        )
    return layers[:count]


def lazy_ratio(interval: int) -> float:
    """k / (k + 1) for a regulariser every k steps; 1 without lazy regularisation."""
    return interval / (interval + 1) if interval else 1.0


def optimizers(config: ml_collections.ConfigDict) -> dict:
    txs = {}
    for name, interval in (
        ("g", config.stylegan2_g_reg_interval),
        ("d", config.stylegan2_d_reg_interval),
    ):
        ratio = lazy_ratio(interval)
        txs[name] = optax.adam(
            config[f"{name}_learning_rate"] * ratio,
            b1=config[f"{name}_beta1"] ** ratio,
            b2=config[f"{name}_beta2"] ** ratio,
            eps=1e-8,
        )
    txs["d"] = finetune.freeze(txs["d"], frozen_d_layers(config))
    return txs


def ema_beta(step, config: ml_collections.ConfigDict):
    """G's moving-average decay at `step`: 0.5 ** (batch / ema_nimg), ema_nimg ramped
    up as min(ema_kimg x 1000, images shown x ema_rampup) when a ramp-up is set."""
    ema_nimg = jnp.float32(config.stylegan2_ema_kimg * 1000)
    if config.stylegan2_ema_rampup:
        shown = jnp.asarray(step, jnp.float32) * config.batch_size
        ema_nimg = jnp.minimum(ema_nimg, shown * config.stylegan2_ema_rampup)
    return 0.5 ** (config.batch_size / jnp.maximum(ema_nimg, 1e-8))


def ema_decays(config: ml_collections.ConfigDict) -> dict:
    if not config.stylegan2_ema_kimg:
        return {}
    return {"g": functools.partial(ema_beta, config=config)}


def truncation_options(config: ml_collections.ConfigDict, psi: float, cutoff: int | None):
    """G's keyword arguments for `jaxgan.sample --truncation=psi [--truncation_cutoff=N]`:
    ws moved towards w_avg, w_avg + psi (w - w_avg), the first `cutoff` of them (all
    without)."""
    num_ws = spec(config).num_ws
    if cutoff is not None and not 1 <= cutoff <= num_ws:
        raise UserError(
            f"--truncation_cutoff must be in [1, {num_ws}] (G has {num_ws} ws), got {cutoff}"
        )
    return {"psi": psi, "cutoff": cutoff}


def scoring_options(config: ml_collections.ConfigDict) -> dict:
    """G's options when its samples are scored (FID and the rest): random noise maps (drawn
    from a key of the latents, so a score repeats), as the reference's metrics sample;
    grids and jaxgan.sample use the stored maps, as its snapshots and generate script."""
    return {"noise_mode": "seeded"}


def sample_inputs(config: ml_collections.ConfigDict) -> str:
    return "z+labels" if config.conditional else "z"


def evaluators(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    return ("images",)


def init(key: jax.Array, *, config: ml_collections.ConfigDict, nets: dict) -> TrainState:
    txs = optimizers(config)
    g_key, d_key, run_key = jax.random.split(key, 3)
    z = jnp.zeros((1, config.latent_dim), jnp.float32)
    labels = jnp.zeros((1,), jnp.int32) if config.conditional else None
    image = jnp.zeros((1, config.image_size, config.image_size, config.num_channels))
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        key=jax.random.key_data(run_key),
        nets={
            "g": init_net(nets["g"], txs["g"], g_key, z, labels),
            "d": init_net(nets["d"], txs["d"], d_key, image, labels),
        },
        extras={"pl_mean": jnp.zeros((), jnp.float32)},
    )


# --- Losses --------------------------------------------------------------------------


def generated_labels(config, batch, key, count: int):
    """Classes of generated images: the batch's real labels in a random order (the
    reference draws the labels of random training images)."""
    if not config.conditional:
        return None
    return jax.random.permutation(key, batch["label"][0])[:count]


def _g_variables(net, params) -> dict:
    return {"params": params, **net.collections}


def mapped(nets, config, g_net, params, z, labels, key):
    """ws of z with the reference's style mixing, and G's new collections (w_avg
    updated, the noise maps as they were)."""
    g = nets["g"]
    variables = _g_variables(g_net, params)
    ws, updated = g.apply(variables, z, labels, train=True, method=g.mapping, mutable=["stats"])
    probability = config.stylegan2_style_mixing
    if probability > 0:
        num_ws = ws.shape[1]
        cutoff_key, coin_key, z_key = jax.random.split(key, 3)
        cutoff = jax.random.randint(cutoff_key, (), 1, num_ws)
        cutoff = jnp.where(jax.random.uniform(coin_key) < probability, cutoff, num_ws)
        other = g.apply(
            {**variables, **updated},
            jax.random.normal(z_key, z.shape),
            labels,
            train=True,
            update_w_avg=False,
            method=g.mapping,
        )
        ws = jnp.where(jnp.arange(num_ws)[None, :, None] < cutoff, ws, other)
    return ws, {**g_net.collections, **updated}


def generated(nets, config, g_net, params, batch, key, count):
    """(images, ws, G's new collections) of `count` fresh latents, as run_G."""
    z_key, label_key, mix_key, noise_key = jax.random.split(key, 4)
    z = jax.random.normal(z_key, (count, config.latent_dim))
    labels = generated_labels(config, batch, label_key, count)
    ws, updated = mapped(nets, config, g_net, params, z, labels, mix_key)
    images = synthesized(nets, g_net, params, ws, noise_key)
    return images, ws, labels, updated


def synthesized(nets, g_net, params, ws, noise_key):
    g = nets["g"]
    return g.apply(
        _g_variables(g_net, params), ws, train=True, method=g.synthesis, rngs={"noise": noise_key}
    )


def logits(nets, d_params, images, labels):
    return nets["d"].apply({"params": d_params}, images, labels)[:, 0]


def g_main_loss(nets, config, params, ctx: Context):
    g_net, d_net = ctx.state.nets["g"], ctx.state.nets["d"]
    images, _, labels, updated = generated(
        nets, config, g_net, params["g"], ctx.batch, stream(ctx.key, "g_main"), config.batch_size
    )
    loss = jnp.mean(jax.nn.softplus(-logits(nets, d_net.params, images, labels)))
    return loss, PhaseAux({"g": updated}, {"g_loss": loss})


def g_pl_loss(nets, config, params, ctx: Context):
    g_net, interval = ctx.state.nets["g"], config.stylegan2_g_reg_interval
    count = config.batch_size // config.stylegan2_pl_batch_shrink
    key = stream(ctx.key, "g_pl")
    z_key, label_key, mix_key, noise_key, pl_key = jax.random.split(key, 5)
    z = jax.random.normal(z_key, (count, config.latent_dim))
    labels = generated_labels(config, ctx.batch, label_key, count)
    ws, updated = mapped(nets, config, g_net, params["g"], z, labels, mix_key)
    size = config.image_size
    shape = (count, size, size, config.num_channels)
    pl_noise = jax.random.normal(pl_key, shape) / math.sqrt(size * size)
    # d sum(G(ws) * y) / d ws: the pullback of y, on the one forward pass.
    _, pullback = jax.vjp(lambda w: synthesized(nets, g_net, params["g"], w, noise_key), ws)
    (grads,) = pullback(pl_noise)
    lengths = jnp.sqrt(jnp.mean(jnp.sum(jnp.square(grads), axis=2), axis=1))
    pl_mean = ctx.state.extras["pl_mean"]
    pl_mean = pl_mean + (jnp.mean(lengths) - pl_mean) * config.stylegan2_pl_decay
    penalty = jnp.square(lengths - pl_mean) * config.stylegan2_pl_weight
    loss = jnp.mean(penalty) * max(interval, 1)
    metrics = {"g_pl_penalty": jnp.mean(penalty), "pl_mean": pl_mean}
    extras = {"pl_mean": jax.lax.stop_gradient(pl_mean)}
    return loss, PhaseAux({"g": updated}, metrics, extras=extras)


def d_main_loss(nets, config, params, ctx: Context):
    g_net = ctx.state.nets["g"]
    images, _, labels, updated = generated(
        nets, config, g_net, g_net.params, ctx.batch, stream(ctx.key, "d_main"), config.batch_size
    )
    fake = logits(nets, params["d"], jax.lax.stop_gradient(images), labels)
    real = logits(nets, params["d"], ctx.batch["image"][0], real_labels(config, ctx.batch))
    loss = jnp.mean(jax.nn.softplus(fake)) + jnp.mean(jax.nn.softplus(-real))
    metrics = {"d_loss": loss, "d_real": jnp.mean(real), "d_fake": jnp.mean(fake)}
    return loss, PhaseAux({"g": updated}, metrics)


def real_labels(config, batch):
    return batch["label"][0] if config.conditional else None


def d_r1_loss(nets, config, params, ctx: Context):
    reals, labels = ctx.batch["image"][0], real_labels(config, ctx.batch)
    grads = jax.grad(lambda x: jnp.sum(logits(nets, params["d"], x, labels)))(reals)
    penalty = jnp.sum(jnp.square(grads), axis=(1, 2, 3))
    gamma, interval = config.stylegan2_r1_gamma, config.stylegan2_d_reg_interval
    loss = jnp.mean(penalty * (gamma / 2)) * max(interval, 1)
    return loss, PhaseAux({}, {"d_r1_penalty": jnp.mean(penalty)})


def _both(main, regulariser):
    """Main loss + regulariser in one phase (an interval of 0: no lazy regularisation)."""

    def loss(params, ctx):
        main_loss, main_aux = main(params, ctx)
        state = ctx.state
        if "g" in main_aux.collections:  # the regulariser sees the main pass's w_avg
            state = state.with_net(
                "g",
                state.nets["g"].replace(
                    collections={**state.nets["g"].collections, **main_aux.collections["g"]}
                ),
            )
        reg_loss, reg_aux = regulariser(params, ctx._replace(state=state))
        collections = {**main_aux.collections, **reg_aux.collections}
        metrics = {**main_aux.metrics, **reg_aux.metrics}
        return main_loss + reg_loss, PhaseAux(collections, metrics, extras=reg_aux.extras)

    return loss


def phases(config: ml_collections.ConfigDict, nets: dict) -> list[Phase]:
    bound = {
        name: functools.partial(function, nets, config)
        for name, function in (
            ("g_main", g_main_loss),
            ("g_pl", g_pl_loss),
            ("d_main", d_main_loss),
            ("d_r1", d_r1_loss),
        )
    }
    result = []
    for net, main, reg, active, interval in (
        ("g", "g_main", "g_pl", config.stylegan2_pl_weight, config.stylegan2_g_reg_interval),
        ("d", "d_main", "d_r1", config.stylegan2_r1_gamma, config.stylegan2_d_reg_interval),
    ):
        if not active:
            result.append(Phase(main, (net,), loss=bound[main]))
        elif not interval:
            result.append(Phase(f"{net}_both", (net,), loss=_both(bound[main], bound[reg])))
        else:
            result.append(Phase(main, (net,), loss=bound[main]))
            result.append(Phase(reg, (net,), loss=bound[reg], every=interval))
    return result
