"""Class conditioning of generators and discriminators (`config.conditional`).

Two forms, `config.conditional_form`:

  concat      a learned label embedding joins the networks' inputs (Mirza & Osindero
              2014, arXiv:1411.1784): G's latent, D's image as extra constant channels
              (or the MLP's flattened input).
  projection  G's BatchNorms take per-class scale and shift (conditional BatchNorm, de
              Vries et al. 2017), and D adds the inner product of a class embedding with
              the features of its last layer: D(x, y) = psi(phi(x)) + embed(y) . phi(x)
              (Miyato & Koyama 2018, arXiv:1802.05637, eq. 3).

A conditional model has `num_classes > 0` and is called with `labels` (int (N,)); an
unconditional one (`num_classes == 0`) refuses them.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan.data.datasets import Dataset
from jaxgan.nn import inits, normalization
from jaxgan.runtime.errors import UserError

FORMS = ("concat", "projection")


def check_labels(labels: jax.Array | None, num_classes: int, batch: int) -> None:
    """Refuses labels given to an unconditional model, or missing for a conditional one."""
    if num_classes == 0 and labels is not None:
        raise ValueError("this model is unconditional (num_classes=0): it takes no labels")
    if num_classes > 0 and (labels is None or labels.shape != (batch,)):
        shape = None if labels is None else labels.shape
        raise ValueError(f"this conditional model needs labels of shape ({batch},), got {shape}")


def concat_embedding(x: jax.Array, labels: jax.Array, num_classes: int, dim: int) -> jax.Array:
    """x (N, ..., C) with a learned embedding of the labels appended to its last axis,
    repeated over the positions in between (extra constant channels of an image)."""
    embedding = nn.Embed(num_classes, dim, dtype=x.dtype, name="label_embedding")(labels)
    embedding = embedding.reshape(x.shape[0], *(1,) * (x.ndim - 2), dim)
    embedding = jnp.broadcast_to(embedding, (*x.shape[:-1], dim))
    return jnp.concatenate([x, embedding.astype(x.dtype)], axis=-1)


class ConditionalBatchNorm(nn.Module):
    """BatchNorm whose scale and shift are rows of per-class tables: batch statistics
    are shared, gamma[y] and beta[y] belong to the sample's class (de Vries et al. 2017;
    the conditional G of Miyato & Koyama 2018)."""

    num_classes: int
    train: bool = True
    dtype: jnp.dtype = jnp.float32
    scale_init: nn.initializers.Initializer = nn.initializers.ones
    bias_init: nn.initializers.Initializer = nn.initializers.zeros

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array) -> jax.Array:
        features = x.shape[-1]
        x = normalization.batch_norm(self.train, self.dtype, use_scale=False, use_bias=False)(x)
        gamma = nn.Embed(self.num_classes, features, embedding_init=self.scale_init, name="scale")
        beta = nn.Embed(self.num_classes, features, embedding_init=self.bias_init, name="bias")
        shape = (x.shape[0], *(1,) * (x.ndim - 2), features)
        scale, bias = gamma(labels).reshape(shape), beta(labels).reshape(shape)
        return x * scale.astype(x.dtype) + bias.astype(x.dtype)


class LinearConditionalBatchNorm(nn.Module):
    """BigGAN's `ccbn` with a conditioning vector c (its shared class embedding, joined
    with a chunk of z under hierarchical latents): batch statistics shared, then
    x * (1 + gain(c)) + bias(c), gain and bias linear layers without biases (spectrally
    normalised when the net is: `norm`), weights N(0, 0.02) as BigGAN-PyTorch's N02, or
    orthogonal under init_style "biggan_ortho" (jaxgan/nn/inits.py)."""

    norm: str = "none"
    train: bool = True
    dtype: jnp.dtype = jnp.float32
    init_style: str = "biggan"

    @nn.compact
    def __call__(self, x: jax.Array, condition: jax.Array) -> jax.Array:
        features = x.shape[-1]
        x = normalization.batch_norm(self.train, self.dtype, use_scale=False, use_bias=False)(x)
        shape = (x.shape[0], *(1,) * (x.ndim - 2), features)

        def linear(name):
            layer = nn.Dense(
                features,
                use_bias=False,
                kernel_init=inits.weight_init(self.init_style, nn.initializers.normal(0.02)),
                dtype=self.dtype,
                name=name,
            )
            return normalization.weighted(layer, self.norm, self.train)(condition).reshape(shape)

        gain, bias = linear("gain"), linear("bias")
        return x * (1 + gain.astype(x.dtype)) + bias.astype(x.dtype)


class Projection(nn.Module):
    """embed(y) . phi(x): the class term of the projection discriminator, shape (N,).

    `norm` is D's normalization: under spectral_norm the embedding table is spectrally
    normalized like every other D weight, as in the authors' discriminators.
    """

    num_classes: int
    norm: str = "none"
    train: bool = True
    dtype: jnp.dtype = jnp.float32
    embedding_init: nn.initializers.Initializer = nn.initializers.xavier_uniform()

    @nn.compact
    def __call__(self, features: jax.Array, labels: jax.Array) -> jax.Array:
        embed = nn.Embed(
            self.num_classes,
            features.shape[-1],
            embedding_init=self.embedding_init,
            dtype=self.dtype,
        )
        embedding = normalization.weighted(embed, self.norm, self.train)(labels)
        return jnp.sum(embedding.astype(jnp.float32) * features.astype(jnp.float32), axis=-1)


def uses(module: nn.Module, form: str) -> bool:
    """Whether a model module (with `num_classes` and `conditional_form`) is conditional
    in this form."""
    return module.num_classes > 0 and module.conditional_form == form


def model_options(config: ml_collections.ConfigDict) -> dict:
    """The conditioning fields of every model: num_classes (0 when unconditional),
    conditional_form and label_embedding_dim."""
    if config.conditional and config.num_classes <= 0:
        raise UserError(
            "config.conditional needs config.num_classes: set it, or let training take it "
            "from the dataset (jaxgan.nn.conditioning.resolve_num_classes)"
        )
    return dict(
        num_classes=config.num_classes if config.conditional else 0,
        conditional_form=config.conditional_form,
        label_embedding_dim=config.label_embedding_dim,
    )


def resolve_num_classes(
    config: ml_collections.ConfigDict, dataset: Dataset
) -> ml_collections.ConfigDict:
    """The config with num_classes taken from the dataset when it is 0, after checking
    that a conditional run's dataset has labels and as many classes. Unconditional
    configs are returned unchanged; the argument is never modified."""
    if not config.conditional:
        return config
    if dataset.labels is None:
        raise UserError(
            f"config.conditional needs labels, and the dataset {config.dataset!r} has none "
            "(for folder:PATH, set config.folder_labels=True and put each class in a "
            "sub-folder)"
        )
    if config.num_classes not in (0, dataset.num_classes):
        raise UserError(
            f"config.num_classes={config.num_classes} but the dataset {config.dataset!r} "
            f"has {dataset.num_classes} classes: set it to {dataset.num_classes}, or 0 to "
            "take it from the dataset"
        )
    resolved = ml_collections.ConfigDict(config.to_dict())
    resolved.num_classes = dataset.num_classes
    return resolved


def fake_labels(key: jax.Array, batch: int, num_classes: int) -> jax.Array:
    """Classes of the fakes, uniform over the classes."""
    return jax.random.randint(key, (batch,), 0, num_classes)
