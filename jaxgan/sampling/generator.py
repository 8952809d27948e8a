"""A trained generator as a Python callable:

  G = jaxgan.load_generator("runs/dcgan")        # the latest checkpoint
  images = G.sample(jax.random.key(0), 16)       # (16, 28, 28, 1) floats in [-1, 1]
  images = G(z)                                  # z of shape (N, G.latent_dim)

G samples as `jaxgan.sample` and `jaxgan.evaluate` do: with the moving average of its
parameters when the run keeps one (config.sample_with_ema), BatchNorm as the run's
config.sample_with_running_stats says. G(z) is a pure JAX function of z, so it can be
jitted, vmapped and differentiated (GAN inversion differentiates it: jaxgan.project).
"""

import dataclasses
import pathlib

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgan.sampling import images, latents, sampler
from jaxgan.sampling import restore as restore_lib
from jaxgan.training.state import NetState


@dataclasses.dataclass(frozen=True)
class Generator:
    """A run's generator at one checkpoint, its variables bound."""

    config: ml_collections.ConfigDict
    step: int
    net: NetState  # the variables every image is drawn with
    _apply: object = dataclasses.field(repr=False)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def num_classes(self) -> int:
        """Classes of a conditional G; 0 for an unconditional one."""
        return self.config.num_classes if self.config.conditional else 0

    def __call__(self, z: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        """Images in [-1, 1] (N, H, W, C) for latents z (N, latent_dim); a conditional
        G's image i is of class labels[i], by default of every class in turn (i mod
        num_classes). A run of 2-D points gives (N, data_dim)."""
        z = jnp.asarray(z)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"z must have shape (N, {self.latent_dim}) for this generator, got {z.shape}"
            )
        if labels is not None:
            if not self.num_classes:
                raise ValueError("labels are for a conditional generator: this one is not")
            labels = jnp.broadcast_to(jnp.asarray(labels, jnp.int32), z.shape[:1])
        return self._apply(self.net, z, labels)

    def sample(
        self,
        key: jax.Array,
        num: int,
        labels: jax.Array | None = None,
        truncation: float | None = None,
    ) -> jax.Array:
        """`num` images of latents drawn as `python -m jaxgan.sample` draws them (from the
        run's prior): image i of `jax.random.key(seed)` is image i of `jaxgan.sample
        --seed=seed`."""
        prior = latents.distribution(self.config)
        if truncation is not None and prior != "normal":
            raise ValueError(f"truncation is for Gaussian latents: this run's prior is {prior}")
        z = latents.gaussian(key, jnp.arange(num), self.latent_dim, truncation, prior)
        return self(z, labels)

    @staticmethod
    def to_uint8(generated: jax.Array) -> np.ndarray:
        """Images in [-1, 1] as uint8 pixels, as the PNG files hold them."""
        return images.to_uint8(jax.device_get(generated))


def load_generator(workdir: str | pathlib.Path, step: int | None = None) -> Generator:
    """The generator of checkpoint `step` (the latest by default) of a jaxgan workdir.

    Raises jaxgan.UserError naming the problem for a directory that is not a run, a
    step without a checkpoint, or a checkpoint another jaxgan version wrote. Reads only.
    """
    restored = restore_lib.restore(pathlib.Path(workdir), step)
    apply = sampler.make_sampler(restored.generator, restored.config.sample_with_running_stats)
    return Generator(restored.config, restored.step, restored.net, apply)
