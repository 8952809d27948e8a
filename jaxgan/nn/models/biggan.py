"""BigGAN's generator and discriminator at 32, 64 and 128 px (Brock et al. 2019), as
BigGAN-PyTorch's `BigGAN.py` builds them (its G_arch and D_arch tables), on the blocks of
jaxgan's ResNet (jaxgan/nn/models/resnet.py).

`width` is the reference's `ch` (config.g_width = G_ch, config.d_width = D_ch); block i
has `multiple * width` channels:

  G (up-blocks, input 4x4)   32: 4,4,4 (input 4)     64: 16,8,4,2 (input 16)
                             128: 16,8,4,2,1 (input 16)
  D (blocks, D_wide)         32: 4,4,4,4 (down, down, -, -)
                             64: 1,2,4,8,16 (down x4, -)   128: 1,2,4,8,16,16 (down x5, -)

Class conditioning, the reference's two forms:
- `shared_dim` 0: each conditional BatchNorm of G has its own per-class gain and bias
  tables (the CIFAR script's G_shared False);
- `shared_dim` > 0 (G_shared): one shared class embedding of that size (drawn by the
  init style: N(0, 0.02), or orthogonal under biggan_ortho; not spectrally normalised),
  and every conditional BatchNorm maps it, through bias-free linear layers, to 1 + gain
  and bias (conditioning.LinearConditionalBatchNorm);
- `hierarchical` (hier, needs shared_dim): z is cut into len(blocks) + 1 equal chunks;
  the first feeds G's linear input layer, chunk i + 1 joins the shared embedding as
  block i's condition. The reference drops the remainder of z when its size does not
  divide; jaxgan refuses such a latent_dim, naming one that divides.
Self-attention (layers.Attention) after G's block of output size `attention_resolution`
and after D's first block of that size. (At 32 px the reference's D_arch lists every D
block at "resolution" 16, so its D_attn=16 attends after all four blocks and D_attn=8
after none; jaxgan attends once, after the first block of that size. The CIFAR script
uses no attention; at 64 and 128 px the two agree.) D ends as the ResNet's: ReLU, sum pooling, a
linear layer, the projection of a class embedding.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections

from jaxgan.nn import conditioning, inits, normalization
from jaxgan.nn.attention import SelfAttention
from jaxgan.nn.models import resnet
from jaxgan.runtime.errors import UserError

CONDITIONAL_FORMS = ("projection",)
BOTTOM = resnet.BOTTOM
# image size -> (G's input multiple, its blocks' output multiples)
G_ARCH = {32: (4, (4, 4, 4)), 64: (16, (16, 8, 4, 2)), 128: (16, (16, 8, 4, 2, 1))}
# image size -> D's blocks as (output multiple, downsamples)
D_ARCH = {
    32: ((4, True), (4, True), (4, False), (4, False)),
    64: ((1, True), (2, True), (4, True), (8, True), (16, False)),
    128: ((1, True), (2, True), (4, True), (8, True), (16, True), (16, False)),
}


def check_config(config: ml_collections.ConfigDict) -> None:
    if config.image_size not in G_ARCH:
        raise UserError(
            f"the BigGAN nets are for {sorted(G_ARCH)} px images, got config.image_size="
            f"{config.image_size}"
        )
    if config.d_norm not in ("none", "spectral_norm"):
        raise UserError(f"BigGAN's D takes d_norm 'spectral_norm' or 'none', got {config.d_norm!r}")
    if config.minibatch_features != "none":
        raise UserError("BigGAN's discriminator has no mini-batch features: set 'none'")
    if config.resnet_init not in inits.INITS:
        raise UserError(
            f"config.resnet_init must be one of {inits.INITS}, got {config.resnet_init!r}"
        )
    sizes = [config.image_size // 2**k for k in range(len(G_ARCH[config.image_size][1]))]
    if config.attention_resolution not in (0, *sizes):
        raise UserError(
            f"config.attention_resolution must be 0 (none) or one of G's block sizes "
            f"{sorted(sizes)} at {config.image_size} px, got {config.attention_resolution}"
        )
    if config.biggan_shared_dim and not config.conditional:
        raise UserError(
            "config.biggan_shared_dim is a class embedding: it needs config.conditional"
        )
    if config.biggan_hierarchical:
        if not config.biggan_shared_dim:
            raise UserError(
                "config.biggan_hierarchical joins z's chunks to the shared class embedding: "
                "set config.biggan_shared_dim (BigGAN: 128)"
            )
        slots = len(G_ARCH[config.image_size][1]) + 1
        if config.latent_dim % slots:
            raise UserError(
                f"config.biggan_hierarchical cuts z into {slots} equal chunks at "
                f"{config.image_size} px: config.latent_dim={config.latent_dim} does not "
                f"divide; use {config.latent_dim // slots * slots}"
            )


class Generator(nn.Module):
    num_channels: int = 3
    width: int = 64  # ch
    image_size: int = 32
    spectral_norm: bool = True
    num_classes: int = 0
    conditional_form: str = "projection"
    label_embedding_dim: int = 32  # unused (the interface every model shares)
    shared_dim: int = 0
    hierarchical: bool = False
    attention_resolution: int = 0
    init_style: str = "default"
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(
        self, z: jax.Array, labels: jax.Array | None = None, train: bool = True
    ) -> jax.Array:
        conditioning.check_labels(labels, self.num_classes, z.shape[0])
        norm = "spectral_norm" if self.spectral_norm else "none"
        first, outputs = G_ARCH[self.image_size]
        conditions = [labels] * len(outputs)
        if self.shared_dim:
            shared = nn.Embed(
                self.num_classes,
                self.shared_dim,
                embedding_init=inits.weight_init(self.init_style, nn.initializers.normal(0.02)),
                name="shared",
            )(labels)
            conditions = [shared] * len(outputs)
            if self.hierarchical:
                z, *chunks = jnp.split(z, len(outputs) + 1, axis=-1)
                conditions = [jnp.concatenate([shared, chunk], axis=-1) for chunk in chunks]
        dense = nn.Dense(
            BOTTOM * BOTTOM * first * self.width,
            dtype=self.dtype,
            **inits.layer_inits(self.init_style, resnet.plain_init, z.shape[-1]),
        )
        x = normalization.weighted(dense, norm, train)(z)
        x = x.reshape(z.shape[0], BOTTOM, BOTTOM, first * self.width)
        for multiple, condition in zip(outputs, conditions, strict=True):
            x = resnet.GeneratorBlock(
                features=multiple * self.width,
                num_classes=0 if self.shared_dim else self.num_classes,
                vector_conditioning=bool(self.shared_dim),
                norm=norm,
                train=train,
                dtype=self.dtype,
                init_style=self.init_style,
            )(x, condition)
            if x.shape[1] == self.attention_resolution:
                x = SelfAttention(norm, train, self.dtype, self.init_style)(x)
        return resnet.to_image(self, x, norm, train)


def build(config: ml_collections.ConfigDict) -> tuple[Generator, resnet.Discriminator]:
    common = dict(
        dtype=jnp.dtype(config.compute_dtype),
        init_style=config.resnet_init,
        attention_resolution=config.attention_resolution,
        **conditioning.model_options(config),
    )
    generator = Generator(
        num_channels=config.num_channels,
        width=config.g_width,
        image_size=config.image_size,
        spectral_norm=config.g_spectral_norm,
        shared_dim=config.biggan_shared_dim,
        hierarchical=config.biggan_hierarchical,
        **common,
    )
    discriminator = resnet.Discriminator(
        width=config.d_width, norm=config.d_norm, blocks=D_ARCH[config.image_size], **common
    )
    return generator, discriminator
