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

from jaxgan import losses, models, sharding
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
    loss_fn = losses.get(config.loss)
    real_images = batch["image"]
    d_steps, batch_size = real_images.shape[:2]
    key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)

    def generate(g_params, g_collections, z):
        return _apply(generator, g_params, g_collections, z, train=True)

    g_collections, d = state.g.collections, state.d
    for i in range(d_steps):
        z = jax.random.normal(jax.random.fold_in(key, i), (batch_size, config.latent_dim))
        if i == d_steps - 1:
            fake, g_vjp, g_collections = jax.vjp(
                lambda p, z=z, c=g_collections: generate(p, c, z), state.g.params, has_aux=True
            )
        else:
            fake, g_collections = generate(state.g.params, g_collections, z)
        fake = jax.lax.stop_gradient(fake)

        def d_objective(d_params, collections, real, fake=fake):
            real_logits, collections = _apply(discriminator, d_params, collections, real, True)
            fake_logits, collections = _apply(discriminator, d_params, collections, fake, True)
            d_loss, _ = loss_fn(real_logits, fake_logits)
            return d_loss, (collections, real_logits, fake_logits)

        (d_loss, (d_collections, real_logits, fake_logits)), d_grads = jax.value_and_grad(
            d_objective, has_aux=True
        )(d.params, d.collections, real_images[i])
        d_updates, d_opt_state = d_tx.update(d_grads, d.opt_state, d.params)
        d = NetState(optax.apply_updates(d.params, d_updates), d_collections, d_opt_state)

    def g_objective(fake_images):
        logits, collections = _apply(discriminator, d.params, d.collections, fake_images, True)
        _, g_loss = loss_fn(jax.lax.stop_gradient(real_logits), logits)
        return g_loss, collections

    (g_loss, d_collections), fake_grads = jax.value_and_grad(g_objective, has_aux=True)(fake)
    (g_grads,) = g_vjp(fake_grads)
    g_updates, g_opt_state = g_tx.update(g_grads, state.g.opt_state, state.g.params)
    g = NetState(optax.apply_updates(state.g.params, g_updates), g_collections, g_opt_state)
    d = d.replace(collections=d_collections)

    metrics = {
        "d_loss": d_loss,
        "g_loss": g_loss,
        "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
        "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
        "d_grad_norm": optax.tree.norm(d_grads),
        "g_grad_norm": optax.tree.norm(g_grads),
    }
    return state.replace(step=state.step + 1, g=g, d=d), metrics


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
