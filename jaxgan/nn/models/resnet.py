"""The SNGAN ResNet generator and discriminator for 32x32 images (Miyato et al. 2018,
arXiv:1802.05957, appendix B.4, Table 4), and their conditional versions (Miyato &
Koyama 2018, arXiv:1802.05637).

G: z -> dense 4x4x`width` -> 3 up-ResBlocks (`width` channels) -> BN, ReLU, 3x3 conv,
tanh. An up-ResBlock is BN-ReLU-upsample-conv3x3-BN-ReLU-conv3x3 plus a shortcut
upsample-conv1x1; upsampling is nearest-neighbour.

D: an optimized first block (conv3x3-ReLU-conv3x3-avgpool, shortcut avgpool-conv1x1),
a down ResBlock (ReLU-conv3x3-ReLU-conv3x3-avgpool, shortcut conv1x1-avgpool), two
ResBlocks without resampling (identity shortcuts), all `width` channels; then ReLU,
global sum pooling and a dense layer to one logit. `norm` (config.d_norm) is
spectral_norm (every D weight, as the paper) or none.

Weights are Glorot-uniform, with gain sqrt(2) in the residual branches, and every layer
has a bias, as in the authors' code. With width 256 (G) and 128 (D) at 32x32x3, G has
4,276,739 parameters and D 1,053,825 (tests/test_resnet.py derives both).

Conditional forms (jaxgan/nn/conditioning.py): `projection` (the paper's cGAN) makes the
BatchNorms of G's ResBlocks conditional (the last BN stays plain) and adds D's
projection term with phi(x) the pooled features; `concat` appends a label embedding to
z and to D's image channels.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan.nn import conditioning, inits, normalization
from jaxgan.nn.attention import SelfAttention
from jaxgan.runtime.errors import UserError

CONDITIONAL_FORMS = conditioning.FORMS
IMAGE_SIZE = 32
BOTTOM = 4  # G's first feature map is BOTTOM x BOTTOM

# Glorot uniform, with gain sqrt(2) (variance scale 2) for the convs before ReLUs.
residual_init = nn.initializers.variance_scaling(2.0, "fan_avg", "uniform")
plain_init = nn.initializers.xavier_uniform()


def check_config(config: ml_collections.ConfigDict) -> None:
    if config.image_size != IMAGE_SIZE:
        raise UserError(
            f"the ResNet is for 32x32 images: config.image_size must be 32, got {config.image_size}"
        )
    if config.d_norm not in ("none", "spectral_norm"):
        raise UserError(
            f"the ResNet discriminator supports config.d_norm 'spectral_norm' or 'none', "
            f"got {config.d_norm!r}"
        )
    if config.minibatch_features != "none":
        raise UserError("the ResNet discriminator has no mini-batch features: set 'none'")
    if config.get("resnet_init", "default") not in inits.INITS:
        raise UserError(
            f"config.resnet_init must be one of {inits.INITS}, got {config.resnet_init!r}"
        )
    if config.get("attention_resolution", 0) not in (0, 8, 16):
        raise UserError(
            "config.attention_resolution must be 0 (none), 8 or 16 for the 32x32 ResNet, got "
            f"{config.attention_resolution!r}"
        )


def upsample(x: jax.Array) -> jax.Array:
    """Nearest-neighbour, 2x."""
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def downsample(x: jax.Array) -> jax.Array:
    """2x2 average pooling."""
    return nn.avg_pool(x, (2, 2), (2, 2))


class _Layers(nn.Module):
    """Conv layers with the block's normalization, init and dtype (a mixin)."""

    norm: str = "none"
    train: bool = True
    dtype: jnp.dtype = jnp.float32
    init_style: str = "default"  # jaxgan/nn/inits.py

    def conv(self, features: int, size: int, init, name: str, in_features: int):
        options = inits.layer_inits(self.init_style, init, in_features * size * size)
        layer = nn.Conv(features, (size, size), dtype=self.dtype, name=name, **options)
        return normalization.weighted(layer, self.norm, self.train)


class GeneratorBlock(_Layers):
    """BN-ReLU-upsample-conv3x3-BN-ReLU-conv3x3 + upsample-conv1x1 shortcut. The BNs
    are conditional when `num_classes` > 0 (labels given), or (`vector_conditioning`,
    BigGAN's shared embedding) on a conditioning vector given as `labels`."""

    features: int = 256
    num_classes: int = 0
    vector_conditioning: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array | None = None) -> jax.Array:
        def normalize(h, name):
            if self.vector_conditioning:
                return conditioning.LinearConditionalBatchNorm(
                    self.norm, self.train, self.dtype, self.init_style, name=name
                )(h, labels)
            if self.num_classes:
                tables = {
                    "scale_init": inits.gain_init(self.init_style),
                    "bias_init": inits.weight_init(self.init_style, nn.initializers.zeros),
                }
                return conditioning.ConditionalBatchNorm(
                    self.num_classes, self.train, self.dtype, name=name, **tables
                )(h, labels)
            return normalization.batch_norm(self.train, self.dtype, name=name)(h)

        h = upsample(nn.relu(normalize(x, "norm1")))
        h = self.conv(self.features, 3, residual_init, "conv1", x.shape[-1])(h)
        h = nn.relu(normalize(h, "norm2"))
        h = self.conv(self.features, 3, residual_init, "conv2", self.features)(h)
        return h + self.conv(self.features, 1, plain_init, "shortcut", x.shape[-1])(upsample(x))


class DiscriminatorBlock(_Layers):
    """ReLU-conv3x3-ReLU-conv3x3[-avgpool] + shortcut; the optimized first block
    (`first`) has no leading ReLU and pools before its shortcut conv. The shortcut is
    the identity when it neither resamples nor changes the channels."""

    features: int = 128
    down: bool = True
    first: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        h = x if self.first else nn.relu(x)
        h = nn.relu(self.conv(self.features, 3, residual_init, "conv1", x.shape[-1])(h))
        h = self.conv(self.features, 3, residual_init, "conv2", self.features)(h)
        if self.down:
            h = downsample(h)
        if self.first:
            shortcut = self.conv(self.features, 1, plain_init, "shortcut", x.shape[-1])(
                downsample(x)
            )
        elif self.down or x.shape[-1] != self.features:
            shortcut = self.conv(self.features, 1, plain_init, "shortcut", x.shape[-1])(x)
            shortcut = downsample(shortcut) if self.down else shortcut
        else:
            shortcut = x
        return h + shortcut


class Generator(nn.Module):
    num_channels: int = 3
    width: int = 256
    spectral_norm: bool = False
    num_classes: int = 0  # 0: unconditional
    conditional_form: str = "projection"
    label_embedding_dim: int = 32
    attention_resolution: int = 0  # self-attention after the block of this size; 0 none
    init_style: str = "default"  # jaxgan/nn/inits.py
    dtype: jnp.dtype = jnp.float32  # compute dtype; parameters stay float32

    @nn.compact
    def __call__(
        self, z: jax.Array, labels: jax.Array | None = None, train: bool = True
    ) -> jax.Array:
        conditioning.check_labels(labels, self.num_classes, z.shape[0])
        norm = "spectral_norm" if self.spectral_norm else "none"
        if conditioning.uses(self, "concat"):
            z = conditioning.concat_embedding(z, labels, self.num_classes, self.label_embedding_dim)
        projection = conditioning.uses(self, "projection")
        dense = nn.Dense(
            BOTTOM * BOTTOM * self.width,
            dtype=self.dtype,
            **inits.layer_inits(self.init_style, plain_init, z.shape[-1]),
        )
        x = normalization.weighted(dense, norm, train)(z)
        x = x.reshape(z.shape[0], BOTTOM, BOTTOM, self.width)
        for _ in range(3):  # 4 -> 8 -> 16 -> 32
            x = GeneratorBlock(
                features=self.width,
                num_classes=self.num_classes if projection else 0,
                norm=norm,
                train=train,
                dtype=self.dtype,
                init_style=self.init_style,
            )(x, labels if projection else None)
            if x.shape[1] == self.attention_resolution:
                x = SelfAttention(norm, train, self.dtype, self.init_style)(x)
        return to_image(self, x, norm, train)


def to_image(generator: nn.Module, x: jax.Array, norm: str, train: bool) -> jax.Array:
    """G's output layers, BN-ReLU-conv3x3-tanh, created in `generator`'s compact call."""
    x = nn.relu(normalization.batch_norm(train, generator.dtype)(x))
    last = nn.Conv(
        generator.num_channels,
        (3, 3),
        dtype=generator.dtype,
        **inits.layer_inits(generator.init_style, plain_init, x.shape[-1] * 9),
    )
    x = normalization.weighted(last, norm, train)(x)
    return jnp.tanh(x).astype(jnp.float32)


class Discriminator(nn.Module):
    width: int = 128
    norm: str = "spectral_norm"
    num_classes: int = 0  # 0: unconditional
    conditional_form: str = "projection"
    label_embedding_dim: int = 32
    attention_resolution: int = 0  # self-attention after the first block of this size
    init_style: str = "default"  # jaxgan/nn/inits.py
    # > 0: a rotation classifier head (the self-supervised GAN, families/ssgan.py).
    rotation_classes: int = 0
    # The blocks: (channels as a multiple of `width`, downsamples). SNGAN's by default;
    # BigGAN's wider, deeper ones come from jaxgan/nn/models/biggan.py.
    blocks: tuple[tuple[int, bool], ...] = ((1, True), (1, True), (1, False), (1, False))
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(
        self,
        x: jax.Array,
        labels: jax.Array | None = None,
        train: bool = True,
        rotations: bool = False,
    ) -> jax.Array:
        """D's logits (B,), or with `rotations` the rotation head's logits (B, classes)."""
        if rotations and not self.rotation_classes:
            raise ValueError("this discriminator has no rotation head (rotation_classes=0)")
        conditioning.check_labels(labels, self.num_classes, x.shape[0])
        if conditioning.uses(self, "concat"):
            x = conditioning.concat_embedding(x, labels, self.num_classes, self.label_embedding_dim)
        layers = dict(norm=self.norm, train=train, dtype=self.dtype, init_style=self.init_style)
        attended = False
        for index, (multiple, down) in enumerate(self.blocks):
            block = DiscriminatorBlock(
                features=multiple * self.width, down=down, first=index == 0, **layers
            )
            x = block(x)
            if x.shape[1] == self.attention_resolution and not attended:  # 16, then 8
                x = SelfAttention(self.norm, train, self.dtype, self.init_style)(x)
                attended = True
        phi = jnp.sum(nn.relu(x), axis=(1, 2))  # global sum pooling
        last = nn.Dense(
            1, dtype=self.dtype, **inits.layer_inits(self.init_style, plain_init, phi.shape[-1])
        )
        logits = normalization.weighted(last, self.norm, train)(phi)
        logits = logits.reshape(x.shape[0]).astype(jnp.float32)
        if self.rotation_classes:
            # compare_gan's SS-GAN head: a linear layer (bias, N(0, 0.02), spectrally
            # normalised with D) on the *average*-pooled final features. It runs in every
            # call, so its power iteration advances once per D pass as every layer's does;
            # after the GAN head, so that head's auto-names are those of a D without it.
            head = nn.Dense(
                self.rotation_classes,
                dtype=self.dtype,
                kernel_init=nn.initializers.normal(0.02),
                name="rotation_head",
            )
            rotation_logits = normalization.weighted(head, self.norm, train)(
                jnp.mean(nn.relu(x), axis=(1, 2))
            ).astype(jnp.float32)
            if rotations:
                return rotation_logits
        if conditioning.uses(self, "projection"):
            self.sow("intermediates", "phi", phi)  # for inspection (capture with mutable)
            embedding_init = inits.weight_init(self.init_style, nn.initializers.xavier_uniform())
            projection = conditioning.Projection(
                self.num_classes, self.norm, train, self.dtype, embedding_init
            )
            logits = logits + projection(phi, labels)
        return logits


def build(config: ml_collections.ConfigDict) -> tuple[Generator, Discriminator]:
    common = dict(dtype=jnp.dtype(config.compute_dtype), **conditioning.model_options(config))
    generator = Generator(
        num_channels=config.num_channels,
        width=config.g_width,
        spectral_norm=config.g_spectral_norm,
        **common,
    )
    discriminator = Discriminator(width=config.d_width, norm=config.d_norm, **common)
    if config.get("resnet_init", "default") != "default":
        generator = generator.clone(init_style=config.resnet_init)
        discriminator = discriminator.clone(init_style=config.resnet_init)
    attention = config.get("attention_resolution", 0)
    if attention:
        generator = generator.clone(attention_resolution=attention)
        discriminator = discriminator.clone(attention_resolution=attention)
    return generator, discriminator
