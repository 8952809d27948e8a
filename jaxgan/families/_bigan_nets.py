"""The bigan family's nets: encoder E(x) -> z, generator G(z) -> x, joint D(x, z).

`mlp`: BiGAN's permutation-invariant MNIST nets (github.com/jeffdonahue/bigan, `net.py`
`mnist_mlp` and `deconvnet_mnist_mlp`, run by `train_mnist.sh`): fully connected layers
without biases, weights N(0, 0.02), BatchNorm that only normalises (no scale, no shift),
LeakyReLU 0.2 in E and D, ReLU in G.
  E: x -> FC 1024, LReLU -> FC 1024, BN, LReLU -> FC latent (the code's logits)
  G: z -> FC 1024, BN, ReLU -> FC 1024 (+ FC of z), BN, ReLU -> FC 784, sigmoid
  D: x -> FC 1024, LReLU -> FC 1024 (+ FC of z), BN, LReLU -> FC 1 (zero-initialised)
The reference's pixels are in [0, 1]: E and D map jaxgan's [-1, 1] images there before
their first (bias-free) layer, and G's sigmoid output is mapped back, so every layer
computes what the reference's does.

`conv`: ALI-style convolutional nets at 28 or 32 px (strided convolutions in E and D's
x trunk, transposed convolutions in G, a 1x1 (dense) trunk for z in D, the two joined by
concatenation), smaller than ALI's CIFAR-10 nets (github.com/IshmaelBelghazi/ALI,
`experiments/ali_cifar10.py`: 5 conv layers per trunk, maxout in D): not the paper's.
"""

import functools
import math

import flax.linen as nn
import jax
import jax.numpy as jnp

INIT = nn.initializers.normal(0.02)


def _dense(features: int, **kwargs) -> nn.Dense:
    return nn.Dense(features, use_bias=False, kernel_init=INIT, **kwargs)


# The running averages' momentum; 0 makes a train-mode pass store its own batch's
# statistics, from which the evaluator averages the reference's test-time statistics.
BN_MOMENTUM = 0.9


def _normalise(train: bool, momentum: float = BN_MOMENTUM) -> nn.BatchNorm:
    # BiGAN's --nogain --nobias: BatchNorm with neither scale nor shift.
    return nn.BatchNorm(
        use_running_average=not train, use_scale=False, use_bias=False, momentum=momentum
    )


def to_unit(images: jax.Array) -> jax.Array:
    """[-1, 1] -> [0, 1], flattened per sample."""
    return (images.reshape(images.shape[0], -1) + 1) / 2


class MLPEncoder(nn.Module):
    latent_dim: int
    outputs: int  # latent_dim, or 2 latent_dim for a Gaussian encoder (mean, log std)
    width: int = 1024
    bn_momentum: float = BN_MOMENTUM

    @nn.compact
    def __call__(self, x, train: bool = True):
        h = nn.leaky_relu(_dense(self.width)(to_unit(x)), 0.2)
        h = nn.leaky_relu(_normalise(train, self.bn_momentum)(_dense(self.width)(h)), 0.2)
        return _dense(self.outputs)(h)


class MLPGenerator(nn.Module):
    shape: tuple[int, ...]
    width: int = 1024
    bn_momentum: float = BN_MOMENTUM

    @nn.compact
    def __call__(self, z, train: bool = True):
        normalise = functools.partial(_normalise, train, self.bn_momentum)
        h = nn.relu(normalise()(_dense(self.width)(z)))
        h = nn.relu(normalise()(_dense(self.width)(h) + _dense(self.width)(z)))
        pixels = nn.sigmoid(_dense(math.prod(self.shape))(h))
        return (2 * pixels - 1).reshape(z.shape[0], *self.shape)


class MLPDiscriminator(nn.Module):
    width: int = 1024
    dropout: float = 0.0

    @nn.compact
    def __call__(self, x, z, train: bool = True):
        x = nn.Dropout(self.dropout, deterministic=not train or not self.dropout)(to_unit(x))
        z = nn.Dropout(self.dropout, deterministic=not train or not self.dropout)(z)
        h = nn.leaky_relu(_dense(self.width)(x), 0.2)
        h = _dense(self.width)(h) + _dense(self.width)(z)
        h = nn.leaky_relu(_normalise(train)(h), 0.2)
        # BiGAN's BinaryClassifier: zero-initialised, no bias.
        return nn.Dense(1, use_bias=False, kernel_init=nn.initializers.zeros)(h)[:, 0]


class ConvEncoder(nn.Module):
    outputs: int
    width: int = 64
    bn_momentum: float = BN_MOMENTUM

    @nn.compact
    def __call__(self, x, train: bool = True):
        h = x
        for i, features in enumerate((self.width, 2 * self.width, 4 * self.width)):
            h = nn.Conv(features, (4, 4), strides=2, padding=1, kernel_init=INIT)(h)
            h = h if i == 0 else _normalise(train, self.bn_momentum)(h)
            h = nn.leaky_relu(h, 0.2)
        return nn.Dense(self.outputs, kernel_init=INIT)(h.reshape(h.shape[0], -1))


class ConvGenerator(nn.Module):
    shape: tuple[int, ...]
    width: int = 64
    bn_momentum: float = BN_MOMENTUM

    @nn.compact
    def __call__(self, z, train: bool = True):
        size, channels = self.shape[0], self.shape[2]
        base = size // 8 if size % 8 == 0 else (size + 4) // 8  # 32 -> 4, 28 -> 4 (cut)
        h = nn.Dense(base * base * 4 * self.width, kernel_init=INIT)(z)
        normalise = functools.partial(_normalise, train, self.bn_momentum)
        h = nn.relu(normalise()(h.reshape(z.shape[0], base, base, 4 * self.width)))
        for features in (2 * self.width, self.width):
            h = nn.ConvTranspose(
                features, (4, 4), strides=(2, 2), padding="SAME", kernel_init=INIT
            )(h)
            h = nn.relu(normalise()(h))
        h = nn.ConvTranspose(channels, (4, 4), strides=(2, 2), padding="SAME", kernel_init=INIT)(h)
        return jnp.tanh(h[:, :size, :size, :])


class ConvDiscriminator(nn.Module):
    width: int = 64
    dropout: float = 0.2

    @nn.compact
    def __call__(self, x, z, train: bool = True):
        drop = nn.Dropout(self.dropout, deterministic=not train or not self.dropout)
        h = drop(x)
        for features in (self.width, 2 * self.width, 4 * self.width):
            h = nn.Conv(features, (4, 4), strides=2, padding=1, kernel_init=INIT)(h)
            h = nn.leaky_relu(h, 0.2)
        hz = nn.leaky_relu(nn.Dense(512, kernel_init=INIT)(drop(z)), 0.2)
        hz = nn.leaky_relu(nn.Dense(512, kernel_init=INIT)(hz), 0.2)
        joint = jnp.concatenate([h.reshape(h.shape[0], -1), hz], axis=-1)
        joint = nn.leaky_relu(nn.Dense(1024, kernel_init=INIT)(drop(joint)), 0.2)
        return nn.Dense(1, kernel_init=INIT)(joint)[:, 0]
