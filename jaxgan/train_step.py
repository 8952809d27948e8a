"""One GAN training step: `config.d_steps` discriminator updates, then one generator
update, in one compiled call that can be used from any JAX program. G's update is
against the freshly updated D, or (config.simultaneous_updates) against D as it was
before its last update, as ALI's and PacGAN's code train.

The generator's forward pass is shared with its update, as in pytorch/examples: the
fakes of the last discriminator update are reused, and G's gradient is D's input
gradient at those fakes (under the freshly updated D) pulled back through G's VJP. So
G runs forward once per step, and D's weight gradients are never computed during G's
update, where nobody uses them.

Conditional runs (config.conditional) give D the batch's real labels with the real
images, and G (and D, with the fakes) labels drawn uniformly over the classes. With
DiffAugment (config.diffaugment), every image D sees is augmented first, inside the
differentiated functions: D's input gradient at the fakes in G's update is the gradient
through the augmentation. With packing (config.pack, PacGAN), D judges groups of
`pack` (augmented) samples concatenated, and gradient penalties are taken at the packed
inputs D actually sees.
"""

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxgan import conditioning, diffaugment, losses, models, packing, penalties, sharding
from jaxgan.train_state import GANState, NetState, optimizers, unrolled_d_optimizer

Metrics = dict[str, jax.Array]

# Streams of the step's key besides its 3-way split (which is kept, so unconditional,
# unaugmented runs draw what they always drew): each is fold_in(key, stream).
LABEL_STREAM = 1
AUGMENT_STREAM = 2
# Sub-streams of the augmentation: D's passes, G's pass and the unrolled D steps draw
# independently of each other.
AUGMENT_D, AUGMENT_G, AUGMENT_UNROLLED = 0, 1, 2


def _apply(module: nn.Module, params, collections, x, train: bool, labels=None):
    """Runs a net in training mode, returning (output, updated collections). Labels
    are passed only when given, so unconditional modules need not take them."""
    variables = {"params": params, **collections}
    kwargs = {} if labels is None else {"labels": labels}
    if not collections:
        return module.apply(variables, x, train=train, **kwargs), collections
    return module.apply(variables, x, train=train, mutable=list(collections), **kwargs)


def gan_step(
    state: GANState,
    batch: dict[str, jax.Array],
    *,
    config: ml_collections.ConfigDict,
    generator: nn.Module,
    discriminator: nn.Module,
    g_tx: optax.GradientTransformation,
    d_tx: optax.GradientTransformation,
    unroll_tx: optax.GradientTransformation | None = None,
) -> tuple[GANState, Metrics]:
    """The pure step function `(state, batch) -> (state, metrics)`. `unroll_tx` is D's
    optimiser in the unrolled steps (train_state.unrolled_d_optimizer; d_tx by default).

    batch['image']: float32 (d_steps, batch, H, W, C) in [-1, 1] (or (d_steps, batch, D)
    vectors, config.data_dim = D), one real batch per discriminator update;
    batch['label']: int (d_steps, batch), the real images' classes, needed when
    config.conditional.
    """
    unroll_tx = unroll_tx or d_tx
    loss_fn = losses.get(config.loss, config.real_label)
    penalty_fn = penalties.get(config.penalty)
    augment = diffaugment.make(config.diffaugment)
    real_images = batch["image"]
    d_steps, batch_size = real_images.shape[:2]
    key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
    z_key, penalty_key, unroll_key = jax.random.split(key, 3)
    label_key = jax.random.fold_in(key, LABEL_STREAM)
    augment_key = jax.random.fold_in(key, AUGMENT_STREAM)
    d_augment_key, g_augment_key, unroll_augment_key = (
        jax.random.fold_in(augment_key, stream)
        for stream in (AUGMENT_D, AUGMENT_G, AUGMENT_UNROLLED)
    )
    real_labels = [None] * d_steps
    if config.conditional:
        if "label" not in batch:
            raise ValueError("config.conditional needs the batch's labels in batch['label']")
        real_labels = batch["label"]

    def generate(g_params, g_collections, z, labels):
        return _apply(generator, g_params, g_collections, z, True, labels)

    def discriminate(d_params, collections, images, labels, key):
        """D on augmented images (the identity without DiffAugment), packed by
        config.pack (augmentation is per sample, so it comes first)."""
        packed = packing.pack(augment(images, key), config.pack)
        return _apply(discriminator, d_params, collections, packed, True, labels)

    def d_objective(d_params, collections, real, fake, labels, keys):
        """D's loss (plus penalty) and, as aux, (collections, d_loss, penalty, logits).
        labels: (real's, fake's), None when unconditional; keys: (penalty's,
        augmentation's)."""
        (real_y, fake_y), (penalty_rng, augment_rng) = labels, keys
        real_rng, fake_rng = jax.random.split(augment_rng)
        real_logits, collections = discriminate(d_params, collections, real, real_y, real_rng)
        fake_logits, collections = discriminate(d_params, collections, fake, fake_y, fake_rng)
        d_loss, _ = loss_fn(real_logits, fake_logits)
        penalty = jnp.zeros((), jnp.float32)
        if penalty_fn is not None:
            frozen = collections

            # The penalty's inputs (reals, or points between reals and fakes) are
            # classed as the reals and augmented as the reals were, so R1 is the
            # gradient of the very D(T(x)) of the loss, as in DiffAugment's code.
            # With packing, D is a function of packed inputs: the penalty's points and
            # gradient norms are those of the packed inputs.
            def d(packed):
                images = packing.unpack(packed, config.pack)
                return discriminate(d_params, frozen, images, real_y, real_rng)[0]

            packed_real, packed_fake = (packing.pack(x, config.pack) for x in (real, fake))
            penalty = penalty_fn(d, packed_real, packed_fake, penalty_rng)
        total = d_loss + config.penalty_weight * penalty
        return total, (collections, d_loss, penalty, real_logits, fake_logits)

    def d_update(d_params, opt_state, collections, real, fake, labels, keys, tx=d_tx):
        grads, aux = jax.grad(d_objective, has_aux=True)(
            d_params, collections, real, fake, labels, keys
        )
        updates, opt_state = tx.update(grads, opt_state, d_params)
        d_params = optax.apply_updates(d_params, updates)
        if config.d_weight_clip > 0:
            clip = config.d_weight_clip
            d_params = jax.tree.map(lambda w: jnp.clip(w, -clip, clip), d_params)
        return d_params, opt_state, grads, aux

    g_collections, d = state.g.collections, state.d
    d_before_last_update = d
    for i in range(d_steps):
        z = jax.random.normal(jax.random.fold_in(z_key, i), (batch_size, config.latent_dim))
        fake_labels = None
        if config.conditional:
            fake_labels = conditioning.fake_labels(
                jax.random.fold_in(label_key, i), batch_size, config.num_classes
            )
        g_collections_before = g_collections
        if i == d_steps - 1 and config.unroll_steps == 0:
            fake, g_vjp, g_collections = jax.vjp(
                lambda p, z=z, c=g_collections, y=fake_labels: generate(p, c, z, y),
                state.g.params,
                has_aux=True,
            )
        else:
            fake, g_collections = generate(state.g.params, g_collections, z, fake_labels)
        fake = jax.lax.stop_gradient(fake)
        d_before_last_update = d
        d_params, d_opt_state, d_grads, aux = d_update(
            d.params,
            d.opt_state,
            d.collections,
            real_images[i],
            fake,
            (real_labels[i], fake_labels),
            (jax.random.fold_in(penalty_key, i), jax.random.fold_in(d_augment_key, i)),
        )
        d_collections, d_loss, penalty, real_logits, fake_logits = aux
        d = NetState(d_params, d_collections, d_opt_state)

    if config.unroll_steps == 0:
        # G's gradient: D's input gradient at the fakes (through the augmentation),
        # pulled back through G's VJP; D's parameters as updated, or as they were before
        # the last update with config.simultaneous_updates.
        judge = d_before_last_update.params if config.simultaneous_updates else d.params

        def g_objective(fake_images):
            logits, collections = discriminate(
                judge, d.collections, fake_images, fake_labels, g_augment_key
            )
            _, g_loss = loss_fn(jax.lax.stop_gradient(real_logits), logits)
            return g_loss, collections

        (g_loss, d_collections), fake_grads = jax.value_and_grad(g_objective, has_aux=True)(fake)
        (g_grads,) = g_vjp(fake_grads)
        d = d.replace(collections=d_collections)
    else:

        def unrolled_g_objective(g_params):
            """G's loss against D after `unroll_steps` more optimiser steps, which depend
            on G through the fakes (Metz et al. 2017, eq. 5-7)."""
            fake, collections = generate(g_params, g_collections_before, z, fake_labels)
            d_params, opt_state = d.params, d.opt_state
            for k in range(config.unroll_steps):
                d_params, opt_state, _, _ = d_update(
                    d_params,
                    opt_state,
                    d.collections,
                    real_images[-1],
                    fake,
                    (real_labels[-1], fake_labels),
                    (
                        jax.random.fold_in(unroll_key, k),
                        jax.random.fold_in(unroll_augment_key, k),
                    ),
                    tx=unroll_tx,
                )
            logits, _ = discriminate(d_params, d.collections, fake, fake_labels, g_augment_key)
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
    steps: int = 1,
) -> Callable[[GANState, dict], tuple[GANState, Metrics]]:
    """The jitted, data-parallel step: batch sharded over the mesh's 'data' axis,
    state replicated, state buffers donated. Statistics over the batch (BatchNorm's)
    are over the global batch. `mesh` defaults to every device.

    With `steps` > 1 one call runs that many steps (a lax.scan): every batch leaf has a
    leading axis of `steps` (one step's batch each) and every metric comes back with
    that leading axis. The result equals `steps` calls of the one-step function.
    """
    if generator is None or discriminator is None:
        generator, discriminator = models.build(config)
    mesh = mesh or sharding.data_mesh()
    sharding.check_batch_size(config.batch_size, mesh)
    g_tx, d_tx = optimizers(config)
    unroll_tx = unrolled_d_optimizer(config)

    def step(state, batch):
        return gan_step(
            state,
            batch,
            config=config,
            generator=generator,
            discriminator=discriminator,
            g_tx=g_tx,
            d_tx=d_tx,
            unroll_tx=unroll_tx,
        )

    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if steps > 1:
        one_step = step

        def step(state, batches):
            return jax.lax.scan(one_step, state, batches, length=steps)

    replicated = NamedSharding(mesh, P())
    return jax.jit(
        step,
        in_shardings=(replicated, sharding.batch_sharding(mesh, 1 + (steps > 1))),
        out_shardings=(replicated, replicated),
        donate_argnums=0,
    )
