"""GAN inversion: the latent z whose image G(z) best matches a target image.

The loss is the pixel error plus, optionally, the distance between the two images' FID
Inception features (pool3, 2048-d; the network jaxgan already has offline, in place of
the VGG/LPIPS features of StyleGAN's projector):

  loss(z) = mean((G(z) - target)^2)
          + feature_weight * mean((f(G(z)) - f(target))^2) / mean(f(target)^2)
          + latent_weight * (mean(z^2) - 1)^2

The last term keeps z near the sphere where a Gaussian latent of many dimensions lies
(|z|^2 ~ latent_dim), where G saw its latents in training. The search starts from the
best of `candidates` latents drawn from the seed, then runs Adam with the learning rate
warmed up over the first 5% of the steps and decayed to 0 by a cosine (as StyleGAN2's
projector ramps its own).
"""

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
import tqdm

from jaxgan.metrics import inception
from jaxgan.sampling import latents


@dataclasses.dataclass(frozen=True)
class Settings:
    steps: int = 500
    learning_rate: float = 0.05
    feature_weight: float = 1.0
    latent_weight: float = 0.1  # not tuned: a choice, see the module docstring
    candidates: int = 64
    snapshots: int = 8  # images of the progress strip, the start and the end included


@dataclasses.dataclass(frozen=True)
class Projection:
    z: np.ndarray  # (1, latent_dim)
    image: np.ndarray  # G(z), (1, H, W, C) in [-1, 1]
    losses: dict[str, np.ndarray]  # per step: total, pixel, feature
    snapshots: np.ndarray  # (snapshots, H, W, C) in [-1, 1]: G's image along the way
    snapshot_steps: np.ndarray
    final: dict[str, float]  # the loss terms at the z found


def inception_features(params) -> Callable[[jax.Array], jax.Array]:
    """A differentiable `images in [-1, 1] (N, H, W, 1|3) -> (N, 2048)`: the FID network's
    preprocessing on floats (no rounding to 8 bits, which has no gradient)."""

    def features(images: jax.Array) -> jax.Array:
        pixels = (images + 1.0) * 127.5  # the 8-bit scale the network's input expects
        x = inception.nv_bilinear(pixels)
        x = jnp.broadcast_to(x, x.shape[:3] + (3,))
        return inception.inception_apply(params, (x - 128.0) / 128.0)

    return features


def make_loss(generator, target, labels, features, settings: Settings):
    """z -> (loss, (pixel, feature)) for one target (1, H, W, C) in [-1, 1]."""
    use_features = features is not None and settings.feature_weight > 0
    target_features = features(target) if use_features else None

    def loss(z):
        image = generator(z, labels)
        pixel = jnp.mean((image - target) ** 2)
        feature = jnp.zeros(())
        if use_features:
            difference = features(image) - target_features
            feature = jnp.mean(difference**2) / jnp.mean(target_features**2)
        prior = (jnp.mean(z**2) - 1.0) ** 2
        total = pixel + settings.feature_weight * feature + settings.latent_weight * prior
        return total, (pixel, feature)

    return loss


def starting_latent(generator, target, labels, key, latent_dim: int, candidates: int):
    """The latent of `key` (drawn as jaxgan.sample draws image i) with the lowest pixel
    error among the first `candidates`."""
    zs = latents.gaussian(key, jnp.arange(candidates), latent_dim)
    repeated = None if labels is None else jnp.broadcast_to(labels, (candidates,))
    errors = jnp.mean((generator(zs, repeated) - target) ** 2, axis=(1, 2, 3))
    return zs[jnp.argmin(errors)][None]


def project(
    generator,
    target: jax.Array,
    key: jax.Array,
    settings: Settings = Settings(),
    features: Callable[[jax.Array], jax.Array] | None = None,
    labels: jax.Array | None = None,
) -> Projection:
    """Finds z for a target (1, H, W, C) in [-1, 1]; `generator(z, labels)` is a
    jaxgan.Generator (or any function of the same signature)."""
    z = starting_latent(generator, target, labels, key, generator.latent_dim, settings.candidates)
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, settings.learning_rate, max(1, settings.steps // 20), settings.steps, 0.0
    )
    optimizer = optax.adam(schedule)
    loss = make_loss(generator, target, labels, features, settings)

    @jax.jit
    def step(z, opt_state):
        (total, (pixel, feature)), gradient = jax.value_and_grad(loss, has_aux=True)(z)
        updates, opt_state = optimizer.update(gradient, opt_state, z)
        return optax.apply_updates(z, updates), opt_state, jnp.stack([total, pixel, feature])

    when = set(np.linspace(0, settings.steps, settings.snapshots).round().astype(int).tolist())
    snapshots, history = {}, []
    opt_state = optimizer.init(z)
    with tqdm.tqdm(total=settings.steps, desc="projecting", unit="step") as progress:
        for index in range(settings.steps + 1):
            if index in when:
                snapshots[index] = np.asarray(generator(z, labels))[0]
            if index == settings.steps:
                break
            z, opt_state, values = step(z, opt_state)
            history.append(values)
            if index % 10 == 0 or index == settings.steps - 1:
                total, pixel, feature = np.asarray(values)
                progress.set_postfix(
                    loss=f"{total:.4f}", pixel=f"{pixel:.4f}", feature=f"{feature:.4f}"
                )
            progress.update(1)
    history = np.asarray(jnp.stack(history)) if history else np.zeros((0, 3), np.float32)
    steps = np.array(sorted(snapshots))
    total, (pixel, feature) = jax.jit(loss)(z)
    return Projection(
        z=np.asarray(z),
        image=np.asarray(generator(z, labels)),
        losses={"total": history[:, 0], "pixel": history[:, 1], "feature": history[:, 2]},
        snapshots=np.stack([snapshots[s] for s in steps]),
        snapshot_steps=steps,
        final={"total": float(total), "pixel": float(pixel), "feature": float(feature)},
    )
