"""Weight initialisations of the ResNet-family nets, by name (`config.resnet_init`).

  default        jaxgan's SNGAN ResNet: Glorot-uniform kernels (the residual branch's
                 scaled for ReLU), zero biases, class gains 1, Glorot embeddings.
  biggan         BigGAN-PyTorch's `N02` (its CIFAR script): every weight of a
                 convolution, linear layer or embedding N(0, 0.02).
  biggan_ortho   BigGAN-PyTorch's `ortho` (its ImageNet scripts; the paper's "orthogonal
                 initialization"): every such weight a random orthogonal matrix (gain 1).

The BigGAN styles leave biases at PyTorch's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
and reach every layer of the BigGAN nets that BigGAN-PyTorch's `init_weights` reaches
(its nn.Conv2d, nn.Linear, nn.Embedding modules): convolutions, linear layers, the
conditional BatchNorms' gain and bias tables or linear layers, the shared class
embedding, self-attention's 1x1 convolutions and the projection embedding. (Layers the
BigGAN nets do not have -- the ResNet's concat-conditioning embedding, SS-GAN's
rotation head -- keep their own initialisers.) Its class gain is 1 + such a table;
jaxgan keeps the gain itself (1 + the draw), the same function and gradient.

PyTorch's `orthogonal_` flattens a weight to (out, fan_in) and Flax's `orthogonal` to
(fan_in, out): one is the other's transpose, so both draw from the same (Haar)
distribution of matrices with orthonormal rows or columns.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

INITS = ("default", "biggan", "biggan_ortho")
BIGGAN_STYLES = ("biggan", "biggan_ortho")


def weight_init(style: str, default: nn.initializers.Initializer) -> nn.initializers.Initializer:
    """A weight's initialiser under `style`: `default` unless a BigGAN style."""
    if style == "biggan":
        return nn.initializers.normal(0.02)
    if style == "biggan_ortho":
        return nn.initializers.orthogonal()
    return default


def torch_bias_init(fan_in: int) -> nn.initializers.Initializer:
    bound = 1.0 / fan_in**0.5

    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


def gain_init(style: str) -> nn.initializers.Initializer:
    """A class-conditional gain table: 1 + the style's weight draw (ones by default)."""
    if style not in BIGGAN_STYLES:
        return nn.initializers.ones
    draw = weight_init(style, None)

    def init(key, shape, dtype=jnp.float32):
        return 1.0 + draw(key, shape, dtype)

    return init


def layer_inits(style: str, kernel_init, fan_in: int) -> dict:
    """A convolution's or linear layer's kernel_init (and bias_init) under `style`."""
    if style in BIGGAN_STYLES:
        weights = weight_init(style, kernel_init)
        return {"kernel_init": weights, "bias_init": torch_bias_init(fan_in)}
    return {"kernel_init": kernel_init}
