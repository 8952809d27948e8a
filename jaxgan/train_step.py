"""One GAN training step: `config.d_steps` discriminator updates, then one generator
update, in one compiled call that can be used from any JAX program.

The generator's forward pass is shared with its update, as in pytorch/examples: the
fakes of the last discriminator update are reused, and G's gradient is D's input
gradient at those fakes (under the freshly updated D) pulled back through G's VJP. So
G runs forward once per step, and D's weight gradients are never computed during G's
update, where nobody uses them.
"""

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxgan import losses, models, penalties, sharding
from jaxgan.train_state import GANState, NetState, optimizers

Metrics = dict[str, jax.Array]


def _apply(module: nn.Module, params, collections, x, train: bool):
    """Runs a net in training mode, returning (output, updated collections)."""
    variables = {"params": params, **collections}
    if not collections:
        return module.apply(variables, x, train=train), collections
    return module.apply(variables, x, train=train, mutable=list(collections))


def gan_step(
    state: GANState,
    batch: dict[str, jax.Array],
    *,
    config: ml_collections.ConfigDict,
    generator: nn.Module,
    discriminator: nn.Module,
    g_tx: optax.GradientTransformation,
    d_tx: optax.GradientTransformation,
) -> tuple[GANState, Metrics]:
    """The pure step function `(state, batch) -> (state, metrics)`.

    batch['image']: float32 (d_steps, batch, H, W, C) in [-1, 1], one real batch per
    discriminator update.
    """
    loss_fn = losses.get(config.loss, config.real_label)
    penalty_fn = penalties.get(config.penalty)
    real_images = batch["image"]
    d_steps, batch_size = real_images.shape[:2]
    key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
    z_key, penalty_key, unroll_key = jax.random.split(key, 3)

    def generate(g_params, g_collections, z):
        return _apply(generator, g_params, g_collections, z, train=True)

    def d_objective(d_params, collections, real, fake, key):
        """D's loss (plus penalty) and, as aux, (collections, d_loss, penalty, logits)."""
        real_logits, collections = _apply(discriminator, d_params, collections, real, True)
        fake_logits, collections = _apply(discriminator, d_params, collections, fake, True)
        d_loss, _ = loss_fn(real_logits, fake_logits)
        penalty = jnp.zeros((), jnp.float32)
        if penalty_fn is not None:
            frozen = collections

            def d(images):
                return _apply(discriminator, d_params, frozen, images, True)[0]

            penalty = penalty_fn(d, real, fake, key)
        total = d_loss + config.penalty_weight * penalty
        return total, (collections, d_loss, penalty, real_logits, fake_logits)

    def d_update(d_params, opt_state, collections, real, fake, key):
        grads, aux = jax.grad(d_objective, has_aux=True)(d_params, collections, real, fake, key)
        updates, opt_state = d_tx.update(grads, opt_state, d_params)
        d_params = optax.apply_updates(d_params, updates)
        if config.d_weight_clip > 0:
            clip = config.d_weight_clip
            d_params = jax.tree.map(lambda w: jnp.clip(w, -clip, clip), d_params)
        return d_params, opt_state, grads, aux

    g_collections, d = state.g.collections, state.d
    for i in range(d_steps):
        z = jax.random.normal(jax.random.fold_in(z_key, i), (batch_size, config.latent_dim))
        g_collections_before = g_collections
        if i == d_steps - 1 and config.unroll_steps == 0:
            fake, g_vjp, g_collections = jax.vjp(
                lambda p, z=z, c=g_collections: generate(p, c, z), state.g.params, has_aux=True
            )
        else:
            fake, g_collections = generate(state.g.params, g_collections, z)
        fake = jax.lax.stop_gradient(fake)
        d_params, d_opt_state, d_grads, aux = d_update(
            d.params,
            d.opt_state,
            d.collections,
            real_images[i],
            fake,
            jax.random.fold_in(penalty_key, i),
        )
        d_collections, d_loss, penalty, real_logits, fake_logits = aux
        d = NetState(d_params, d_collections, d_opt_state)

    if config.unroll_steps == 0:
        # G's gradient: D's input gradient at the fakes, pulled back through G's VJP.
        def g_objective(fake_images):
            logits, collections = _apply(discriminator, d.params, d.collections, fake_images, True)
            _, g_loss = loss_fn(jax.lax.stop_gradient(real_logits), logits)
            return g_loss, collections

        (g_loss, d_collections), fake_grads = jax.value_and_grad(g_objective, has_aux=True)(fake)
        (g_grads,) = g_vjp(fake_grads)
        d = d.replace(collections=d_collections)
    else:

        def unrolled_g_objective(g_params):
            """G's loss against D after `unroll_steps` more optimiser steps, which depend
            on G through the fakes (Metz et al. 2017, eq. 5-7)."""
            fake, collections = generate(g_params, g_collections_before, z)
            d_params, opt_state = d.params, d.opt_state
            for k in range(config.unroll_steps):
                d_params, opt_state, _, _ = d_update(
                    d_params,
                    opt_state,
                    d.collections,
                    real_images[-1],
                    fake,
                    jax.random.fold_in(unroll_key, k),
                )
            logits, _ = _apply(discriminator, d_params, d.collections, fake, True)
            _, g_loss = loss_fn(jax.lax.stop_gradient(real_logits), logits)
            return g_loss, collections

        (g_loss, g_collections), g_grads = jax.value_and_grad(unrolled_g_objective, has_aux=True)(
            state.g.params
        )

    g_updates, g_opt_state = g_tx.update(g_grads, state.g.opt_state, state.g.params)
    g = NetState(optax.apply_updates(state.g.params, g_updates), g_collections, g_opt_state)
    g_ema = state.g_ema
    if config.g_ema_decay > 0:
        g_ema = ema_update(g_ema, g.params, config.g_ema_decay)

    metrics = {
        "d_loss": d_loss,
        "g_loss": g_loss,
        "d_penalty": penalty,
        "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
        "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
        "d_real_logit": jnp.mean(real_logits),
        "d_fake_logit": jnp.mean(fake_logits),
        "d_grad_norm": optax.tree.norm(d_grads),
        "g_grad_norm": optax.tree.norm(g_grads),
    }
    return state.replace(step=state.step + 1, g=g, d=d, g_ema=g_ema), metrics


def ema_update(average, params, decay: float):
    """average <- decay * average + (1 - decay) * params, leaf by leaf."""
    return jax.tree.map(lambda a, p: decay * a + (1 - decay) * p, average, params)


def make_train_step(
    config: ml_collections.ConfigDict,
    mesh: Mesh | None = None,
    generator: nn.Module | None = None,
    discriminator: nn.Module | None = None,
) -> Callable[[GANState, dict], tuple[GANState, Metrics]]:
    """The jitted, data-parallel step: batch sharded over the mesh's 'data' axis,
    state replicated, state buffers donated. Statistics over the batch (BatchNorm's)
    are over the global batch. `mesh` defaults to every device.
    """
    if generator is None or discriminator is None:
        generator, discriminator = models.build(config)
    mesh = mesh or sharding.data_mesh()
    sharding.check_batch_size(config.batch_size, mesh)
    g_tx, d_tx = optimizers(config)

    def step(state, batch):
        return gan_step(
            state,
            batch,
            config=config,
            generator=generator,
            discriminator=discriminator,
            g_tx=g_tx,
            d_tx=d_tx,
        )

    replicated = NamedSharding(mesh, P())
    return jax.jit(
        step,
        in_shardings=(replicated, sharding.batch_sharding(mesh)),
        out_shardings=(replicated, replicated),
        donate_argnums=0,
    )
