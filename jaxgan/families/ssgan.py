"""The `ssgan` family: the self-supervised GAN (Chen et al. 2019, "Self-Supervised GANs
via Auxiliary Rotation Loss"), as google/compare_gan's `compare_gan/gans/ssgan.py`.

The `gan` family's step (its losses, penalties, D steps and fused G update) with a
4-way rotation classifier on D's final features (the ResNet D's `rotation_classes`
head: a spectrally normalised linear layer on the average-pooled features):

- D adds `rotation_weight_d` (β = 1) times the cross-entropy of its rotation head on
  rotated reals; G adds `rotation_weight_g` (α = 0.2) times that of rotated fakes,
  through D as G's loss sees it.
- The rotation batch is compare_gan's: the last n = rotated_batch_size / 4 images of
  the batch, unrotated (class 0) and turned by 90°, 180° and 270° (classes 1-3,
  np.rot90's direction), 4n images in all; the GAN loss uses the unrotated batch.
- The cross-entropy is compare_gan's: -mean(sum(onehot * log(softmax + 1e-10))).

compare_gan runs D once over [reals, rotated reals, fakes, rotated fakes]. Here the GAN
logits come from the `gan` family's pass(es) (one pass over [fakes; reals] with
config.d_joint_pass, as configs/ssgan.py sets), and the rotation logits from a second
pass that starts from the same collections and whose collection updates are dropped:
D's weights are normalised by the same power-iteration step in both, so the logits are
those of compare_gan's single call (its D has no batch statistics). With both weights 0
the step is the `gan` family's, bit for bit (tests/test_ssgan.py, on CPU).

Two things of the `gan` family's step that compare_gan does otherwise: D's GAN logit is
taken on the *sum*-pooled final features (SNGAN's ResNet; compare_gan's resnet_cifar D
mean-pools for both heads: the rotation head here does), and G's update reuses the fakes
of the last D update (compare_gan draws a fresh slice of z for the G step).
"""

import jax
import jax.numpy as jnp
import ml_collections

from jaxgan.families import gan
from jaxgan.runtime.errors import UserError

GENERATOR = gan.GENERATOR
OWN_FIELDS = gan.OWN_FIELDS + ("rotation_weight_d", "rotation_weight_g", "rotated_batch_size")
ROTATIONS = 4  # 0°, 90°, 180°, 270°

optimizers = gan.optimizers
ema_decays = gan.ema_decays
sample_inputs = gan.sample_inputs
evaluators = gan.evaluators
init = gan.init


def rotated_batch_size(config: ml_collections.ConfigDict) -> int:
    """4n, the images in each rotation batch (0 in the config: every image of the batch
    in its 4 rotations, the paper's expectation over rotations, as Mimicry trains)."""
    return config.rotated_batch_size or ROTATIONS * config.batch_size


def check_config(config: ml_collections.ConfigDict) -> None:
    if config.data_dim:
        raise UserError(
            "the ssgan family's rotation loss needs images: config.data_dim must be 0 "
            "(2D data have no rotations to classify)"
        )
    if config.model != "resnet":
        raise UserError(
            f"the ssgan family's rotation head is on the ResNet discriminator: set "
            f"config.model='resnet' (got {config.model!r})"
        )
    rotated = rotated_batch_size(config)
    if rotated % ROTATIONS or not 0 < rotated <= 4 * config.batch_size:
        raise UserError(
            f"config.rotated_batch_size must be a positive multiple of 4 and at most 4 x "
            f"batch_size ({4 * config.batch_size}), got {rotated} (0 means 4 x batch_size)"
        )
    for field in ("rotation_weight_d", "rotation_weight_g"):
        if config[field] < 0:
            raise UserError(f"config.{field} must be >= 0, got {config[field]}")
    unsupported = {
        "conditional": config.conditional,
        "pack": config.pack > 1,
        "diffaugment": bool(config.diffaugment),
        "unroll_steps": config.unroll_steps > 0,
    }
    for field, used in unsupported.items():
        if used:
            raise UserError(
                f"the ssgan family does not combine with config.{field} (compare_gan's "
                "SS-GAN is unconditional, unpacked, unaugmented and not unrolled): "
                "leave it at its default"
            )


def build(config: ml_collections.ConfigDict) -> dict:
    nets = gan.build(config)
    return {**nets, "d": nets["d"].clone(rotation_classes=ROTATIONS)}


def rotation_batch(images: jax.Array, n: int) -> tuple[jax.Array, jax.Array]:
    """The last n images in their 4 rotations, grouped by angle, and their classes."""
    tail = images[-n:]
    turned = [jnp.rot90(tail, k, axes=(1, 2)) for k in range(ROTATIONS)]
    classes = jnp.repeat(jnp.arange(ROTATIONS), n)
    return jnp.concatenate(turned), classes


def rotation_cross_entropy(logits: jax.Array, classes: jax.Array) -> jax.Array:
    """compare_gan's: -mean(sum(onehot * log(softmax + 1e-10)))."""
    onehot = jax.nn.one_hot(classes, logits.shape[-1])
    return -jnp.mean(jnp.sum(onehot * jnp.log(jax.nn.softmax(logits) + 1e-10), axis=-1))


class Objectives(gan.Objectives):
    def __init__(self, config: ml_collections.ConfigDict, nets: dict):
        super().__init__(config, nets)
        self.rotated = rotated_batch_size(config) // ROTATIONS

    def rotation_loss(self, d_params, collections, images):
        """(cross-entropy, accuracy) of D's rotation head on the rotation batch of
        `images`; D's collections as given, their updates dropped."""
        batch, classes = rotation_batch(images, self.rotated)
        variables = {"params": d_params, **collections}
        logits, _ = self.discriminator.apply(
            variables, batch, train=True, rotations=True, mutable=list(collections)
        )
        accuracy = jnp.mean(jnp.argmax(logits, axis=-1) == classes)
        return rotation_cross_entropy(logits, classes), jax.lax.stop_gradient(accuracy)

    # A weight of 0 leaves the rotation pass out altogether, so the step is the base GAN's
    # program (adding a zero gradient would be exact, but it changes how XLA fuses and so
    # sums D's gradients: a last-bit difference) at the base GAN's cost.

    def d_objective(self, d_params, collections, real, fake, labels, keys):
        total, aux = super().d_objective(d_params, collections, real, fake, labels, keys)
        weight = self.config.rotation_weight_d
        if not weight:
            return total, aux
        rotation, accuracy = self.rotation_loss(d_params, collections, real)
        *gan_aux, extra = aux
        extra = {**extra, "d_rotation_loss": rotation, "d_rotation_accuracy": accuracy}
        return total + weight * rotation, (*gan_aux, extra)

    def g_objective(self, judge, collections, fake_images, handoff, key):
        g_loss, (new_collections, extra) = super().g_objective(
            judge, collections, fake_images, handoff, key
        )
        weight = self.config.rotation_weight_g
        if not weight:
            return g_loss, (new_collections, extra)
        rotation, accuracy = self.rotation_loss(judge, collections, fake_images)
        extra = {**extra, "g_rotation_loss": rotation, "g_rotation_accuracy": accuracy}
        return g_loss + weight * rotation, (new_collections, extra)


def phases(config: ml_collections.ConfigDict, nets: dict):
    return gan.phases(config, nets, objectives=Objectives(config, nets))
