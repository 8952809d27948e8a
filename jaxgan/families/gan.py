"""The `gan` family: a generator G(z) against a discriminator D(x), every loss, penalty
and trick of jaxgan 0.1's step.

Two phases per step: "d" (`config.d_steps` discriminator updates, one real batch each),
then "g" (one generator update). G's update is against the freshly updated D, or
(config.simultaneous_updates) against D as it was before its last update, as ALI's and
PacGAN's code train.

The generator's forward pass is shared with its update, as in pytorch/examples: the
fakes of D's last update are reused, and G's gradient is D's input gradient at those
fakes (under the freshly updated D) pulled back through G's VJP (the "d" phase hands
the VJP to the "g" phase). So G runs forward once per step, and D's weight gradients are
never computed during G's update, where nobody uses them. With unrolling
(config.unroll_steps, Metz et al. 2017), G's loss is taken through `unroll_steps` more
differentiable D updates instead, from the freshly updated D or (simultaneous_updates,
as the unrolled GAN's notebook) from D as it was before the step's last update; with
config.unrolled_objective "saddle" (zero-sum losses: minimax, wasserstein) G's objective
is the game's value at the unrolled D, minus D's loss with its real term, which depends
on G through the unrolled steps. With config.unrolled_second_order False the unrolled
steps take the fakes as constants: G's gradient is first order, at the unrolled D.

Conditional runs (config.conditional) give D the batch's real labels with the real
images, and G (and D, with the fakes) labels drawn uniformly over the classes. With
DiffAugment (config.diffaugment), every image D sees is augmented first, inside the
differentiated functions. With packing (config.pack, PacGAN), D judges groups of `pack`
samples concatenated, and gradient penalties are taken at the packed inputs D sees.

Randomness: the step key's 3-way split (z, penalty, unrolling) and its fold_in streams
1 (labels) and 2 (augmentation) are those of jaxgan 0.1, so a run draws what it drew.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import optax

from jaxgan.families import Context, Phase, PhaseAux
from jaxgan.nn import conditioning, models
from jaxgan.objectives import diffaugment, losses, packing, penalties
from jaxgan.training.state import TrainState, init_net, unrolled_d_optimizer
from jaxgan.training.state import optimizers as _optimizers

GENERATOR = "g"
# Fields that only this family reads.
OWN_FIELDS = (
    "model",
    "loss",
    "real_label",
    "penalty",
    "penalty_weight",
    "d_steps",
    "unroll_steps",
    "simultaneous_updates",
    "unrolled_objective",
    "unrolled_second_order",
    "freeze_d_layers",
    "g_orthogonal_reg",
    "attention_resolution",
    "resnet_init",
    "biggan_shared_dim",
    "biggan_hierarchical",
    "d_joint_pass",
    "pack",
    "diffaugment",
    "conditional",
    "d_weight_clip",
    "minibatch_features",
)

# Streams of the step's key besides its 3-way split: each is fold_in(key, stream).
LABEL_STREAM = 1
AUGMENT_STREAM = 2
# Sub-streams of the augmentation: D's passes, G's pass and the unrolled D steps.
AUGMENT_D, AUGMENT_G, AUGMENT_UNROLLED = 0, 1, 2


def build(config: ml_collections.ConfigDict) -> dict[str, nn.Module]:
    generator, discriminator = models.build(config)
    return {"g": generator, "d": discriminator}


def optimizers(config: ml_collections.ConfigDict) -> dict:
    g_tx, d_tx = _optimizers(config)
    return {"g": g_tx, "d": d_tx}


def ema_decays(config: ml_collections.ConfigDict) -> dict[str, float]:
    return {"g": config.g_ema_decay} if config.g_ema_decay > 0 else {}


def sample_inputs(config: ml_collections.ConfigDict) -> str:
    return "z+labels" if config.conditional else "z"


def evaluators(config: ml_collections.ConfigDict) -> tuple[str, ...]:
    from jaxgan.metrics import (
        class_accuracy,
        mode_evaluation,  # the evaluation stack, only where scored
    )

    if mode_evaluation.benchmark(config):
        return ("modes",)
    return ("images", "class_accuracy") if class_accuracy.applies(config) else ("images",)


def init(key: jax.Array, *, config: ml_collections.ConfigDict, nets: dict) -> TrainState:
    g_key, d_key, run_key = jax.random.split(key, 3)
    txs = optimizers(config)
    z = jnp.zeros((1, config.latent_dim), jnp.float32)
    # D's example input: one packed group of `pack` samples (one sample without packing).
    image = packing.pack(jnp.zeros((config.pack, *models.data_shape(config))), config.pack)
    labels = jnp.zeros((1,), jnp.int32) if config.conditional else None
    g = init_net(nets["g"], txs["g"], g_key, z, labels)
    d = init_net(nets["d"], txs["d"], d_key, image, labels)
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        key=jax.random.key_data(run_key),
        nets={"g": g, "d": d},
    )


def apply(module: nn.Module, params, collections, x, train: bool, labels=None):
    """Runs a net, returning (output, updated collections). Labels are passed only when
    given, so unconditional modules need not take them."""
    variables = {"params": params, **collections}
    kwargs = {} if labels is None else {"labels": labels}
    if not collections:
        return module.apply(variables, x, train=train, **kwargs), collections
    return module.apply(variables, x, train=train, mutable=list(collections), **kwargs)


class Keys:
    """The step's random streams, as jaxgan 0.1 drew them."""

    def __init__(self, key: jax.Array):
        self.z, self.penalty, self.unroll = jax.random.split(key, 3)
        self.label = jax.random.fold_in(key, LABEL_STREAM)
        augment = jax.random.fold_in(key, AUGMENT_STREAM)
        self.d_augment, self.g_augment, self.unroll_augment = (
            jax.random.fold_in(augment, s) for s in (AUGMENT_D, AUGMENT_G, AUGMENT_UNROLLED)
        )


class Objectives:
    """D's and G's objectives for one config and one pair of modules."""

    def __init__(self, config: ml_collections.ConfigDict, nets: dict):
        self.config = config
        self.generator, self.discriminator = nets["g"], nets["d"]
        self.loss_fn = losses.get(config.loss, config.real_label)
        self.saddle = config.unrolled_objective == "saddle"
        # The range of images D's network is defined on (models.image_range).
        self.image_range = models.image_range(config)
        self.penalty_fn = penalties.get(config.penalty)
        self.augment = diffaugment.make(config.diffaugment)

    def generate(self, g_params, g_collections, z, labels):
        return apply(self.generator, g_params, g_collections, z, True, labels)

    def d_input(self, images, key):
        """D's input: augmented images (the identity without DiffAugment), packed by
        config.pack (augmentation is per sample, so it comes first)."""
        return packing.pack(self.augment(images, key), self.config.pack)

    def discriminate(self, d_params, collections, images, labels, key):
        packed = self.d_input(images, key)
        return apply(self.discriminator, d_params, collections, packed, True, labels)

    def discriminate_both(self, d_params, collections, real, fake, labels, keys):
        """(real logits, fake logits, collections): two passes, reals first, or with
        config.d_joint_pass one pass over [fakes; reals], as BigGAN-PyTorch's D step runs
        (one spectral-norm power step, one set of batch statistics per D step)."""
        (real_y, fake_y), (real_rng, fake_rng) = labels, keys
        if not self.config.get("d_joint_pass", False):
            real_logits, collections = self.discriminate(
                d_params, collections, real, real_y, real_rng
            )
            fake_logits, collections = self.discriminate(
                d_params, collections, fake, fake_y, fake_rng
            )
            return real_logits, fake_logits, collections
        inputs = jnp.concatenate([self.d_input(fake, fake_rng), self.d_input(real, real_rng)])
        both_y = None if real_y is None else jnp.concatenate([fake_y, real_y])
        logits, collections = apply(self.discriminator, d_params, collections, inputs, True, both_y)
        fake_logits, real_logits = jnp.split(logits, [inputs.shape[0] // 2])
        return real_logits, fake_logits, collections

    def d_objective(self, d_params, collections, real, fake, labels, keys):
        """D's loss plus penalty and, as aux, (collections, d_loss, penalty, logits).
        labels: (real's, fake's), None when unconditional; keys: (penalty's, augmentation's)."""
        (real_y, fake_y), (penalty_rng, augment_rng) = labels, keys
        real_rng, fake_rng = jax.random.split(augment_rng)
        real_logits, fake_logits, collections = self.discriminate_both(
            d_params, collections, real, fake, (real_y, fake_y), (real_rng, fake_rng)
        )
        d_loss, _ = self.loss_fn(real_logits, fake_logits)
        penalty = jnp.zeros((), jnp.float32)
        if self.penalty_fn is not None:
            frozen, pack = collections, self.config.pack

            # The penalty's inputs (reals, or points between reals and fakes) are classed
            # and augmented as the reals were, so R1 is the gradient of the very D(T(x))
            # of the loss, as in DiffAugment's code. With packing, D is a function of
            # packed inputs: the penalty's points and norms are those of packed inputs.
            def d(packed):
                images = packing.unpack(packed, pack)
                return self.discriminate(d_params, frozen, images, real_y, real_rng)[0]

            packed_real, packed_fake = (packing.pack(x, pack) for x in (real, fake))
            penalty = penalties.in_range(
                self.penalty_fn, self.image_range, d, packed_real, packed_fake, penalty_rng
            )
        total = d_loss + self.config.penalty_weight * penalty
        return total, (collections, d_loss, penalty, real_logits, fake_logits, {})

    def g_objective(self, judge, collections, fake_images, handoff, key):
        """G's loss at `fake_images` against D's parameters `judge`, and as aux D's
        collections after the pass and extra metrics. The "d" phase's real logits
        complete the loss's signature."""
        logits, collections = self.discriminate(
            judge, collections, fake_images, handoff["fake_labels"], key
        )
        _, g_loss = self.loss_fn(handoff["real_logits"], logits)
        return g_loss, (collections, {})

    def clip(self, d_params):
        clip = self.config.d_weight_clip
        return jax.tree.map(lambda w: jnp.clip(w, -clip, clip), d_params)


def phases(
    config: ml_collections.ConfigDict, nets: dict, objectives: Objectives | None = None
) -> list[Phase]:
    """The "d" and "g" phases; a family built on this one (ssgan) passes its own
    Objectives."""
    objectives = objectives or Objectives(config, nets)
    project = {"d": objectives.clip} if config.d_weight_clip > 0 else {}
    if config.unroll_steps:
        g_phase = Phase("g", ("g",), loss=functools.partial(unrolled_g_loss, objectives))
    else:
        g_phase = Phase("g", ("g",), gradients=functools.partial(fused_g_gradients, objectives))
    return [
        Phase(
            "d",
            ("d",),
            gradients=functools.partial(d_gradients, objectives),
            repeat=config.d_steps,
            project=project,
        ),
        g_phase,
    ]


def fake_labels(config, keys: Keys, index: int, batch_size: int):
    if not config.conditional:
        return None
    key = jax.random.fold_in(keys.label, index)
    return conditioning.fake_labels(key, batch_size, config.num_classes)


def real_labels(config, batch) -> jax.Array | None:
    if not config.conditional:
        return None
    if "label" not in batch:
        raise ValueError("config.conditional needs the batch's labels in batch['label']")
    return batch["label"]


def d_gradients(objectives: Objectives, params: dict, ctx: Context):
    """One D update's gradient, on real batch `ctx.index` against fresh fakes of G (run
    outside D's differentiation). The last one records G's forward pass (its VJP, when
    not unrolling) for the "g" phase."""
    config, state, i = objectives.config, ctx.state, ctx.index
    keys, real = Keys(ctx.key), ctx.batch["image"]
    batch_size = real.shape[1]
    z = jax.random.normal(jax.random.fold_in(keys.z, i), (batch_size, config.latent_dim))
    fake_y = fake_labels(config, keys, i, batch_size)
    real_y = None if (labels := real_labels(config, ctx.batch)) is None else labels[i]
    g, d = state.nets["g"], state.nets["d"]
    g_vjp = None
    if i == real.shape[0] - 1 and not config.unroll_steps:
        fake, g_vjp, g_collections = jax.vjp(
            lambda p: objectives.generate(p, g.collections, z, fake_y), g.params, has_aux=True
        )
    else:
        fake, g_collections = objectives.generate(g.params, g.collections, z, fake_y)
    fake = jax.lax.stop_gradient(fake)
    rngs = (jax.random.fold_in(keys.penalty, i), jax.random.fold_in(keys.d_augment, i))
    (total, aux), grads = jax.value_and_grad(objectives.d_objective, has_aux=True)(
        params["d"], d.collections, real[i], fake, (real_y, fake_y), rngs
    )
    d_collections, loss, penalty, real_logits, fake_logits, extra_metrics = aux
    metrics = {
        "d_loss": loss,
        "d_penalty": penalty,
        "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
        "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
        "d_real_logit": jnp.mean(real_logits),
        "d_fake_logit": jnp.mean(fake_logits),
        **extra_metrics,
    }
    handoff = {
        "z": z,
        "fake": fake,
        "fake_labels": fake_y,
        "real_logits": jax.lax.stop_gradient(real_logits),
        "g_vjp": g_vjp,
        "g_collections_before": g.collections,
        "d_before_update": d,
    }
    collections = {"g": g_collections, "d": d_collections}
    return (total, PhaseAux(collections, metrics, handoff)), {"d": grads}


def fused_g_gradients(objectives: Objectives, params: dict, ctx: Context):
    """G's gradient: D's input gradient at the "d" phase's fakes (through the
    augmentation), pulled back through G's VJP; D's parameters as updated, or as they
    were before the last update with config.simultaneous_updates."""
    config, handoff, d = objectives.config, ctx.handoff, ctx.state.nets["d"]
    judge = handoff["d_before_update"].params if config.simultaneous_updates else d.params
    g_augment_key = Keys(ctx.key).g_augment

    def g_objective(fake_images):
        return objectives.g_objective(judge, d.collections, fake_images, handoff, g_augment_key)

    (g_loss, (d_collections, metrics)), fake_grads = jax.value_and_grad(g_objective, has_aux=True)(
        handoff["fake"]
    )
    (g_grads,) = handoff["g_vjp"](fake_grads)
    aux = PhaseAux({"d": d_collections}, {"g_loss": g_loss, **metrics})
    return (g_loss, aux), {"g": g_grads}


def unrolled_g_loss(objectives: Objectives, params: dict, ctx: Context):
    """G's loss against D after `unroll_steps` more optimiser steps on the step's last
    real batch, which depend on G through the fakes (Metz et al. 2017, eq. 5-7). The
    steps start from D's parameters and optimiser state as updated, or as they were
    before the update with config.simultaneous_updates (then the first unrolled step is
    D's own update of this step, as in the notebook, which runs both updates in one
    `sess.run`)."""
    config, handoff = objectives.config, ctx.handoff
    d = handoff["d_before_update"] if config.simultaneous_updates else ctx.state.nets["d"]
    keys, fake_y = Keys(ctx.key), handoff["fake_labels"]
    real = ctx.batch["image"][-1]
    real_y = None if (labels := real_labels(config, ctx.batch)) is None else labels[-1]
    unroll_tx = unrolled_d_optimizer(config)
    fake, g_collections = objectives.generate(
        params["g"], handoff["g_collections_before"], handoff["z"], fake_y
    )
    d_params, opt_state = d.params, d.opt_state
    # First order only: the unrolled D still depends on G's current fakes as numbers,
    # but G's gradient no longer sees how D's steps would change were the fakes moved.
    step_fake = fake if config.unrolled_second_order else jax.lax.stop_gradient(fake)
    for k in range(config.unroll_steps):
        rngs = (jax.random.fold_in(keys.unroll, k), jax.random.fold_in(keys.unroll_augment, k))
        grads, _ = jax.grad(objectives.d_objective, has_aux=True)(
            d_params, d.collections, real, step_fake, (real_y, fake_y), rngs
        )
        updates, opt_state = unroll_tx.update(grads, opt_state, d_params)
        d_params = optax.apply_updates(d_params, updates)
        if config.d_weight_clip > 0:
            d_params = objectives.clip(d_params)
    logits, _ = objectives.discriminate(d_params, d.collections, fake, fake_y, keys.g_augment)
    if objectives.saddle:
        # The saddle objective: G maximises D's loss (without D's penalty) at the unrolled
        # D, reals included (the notebook's minimize(-unrolled_loss)).
        real_key = jax.random.fold_in(keys.g_augment, 1)
        real_logits, _ = objectives.discriminate(d_params, d.collections, real, real_y, real_key)
        g_loss = -objectives.loss_fn(real_logits, logits)[0]
    else:
        _, g_loss = objectives.loss_fn(handoff["real_logits"], logits)
    return g_loss, PhaseAux({"g": g_collections}, {"g_loss": g_loss})
