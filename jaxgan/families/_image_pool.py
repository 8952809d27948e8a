"""The history of generated images a CycleGAN discriminator trains on (Shrivastava et al.
2017; junyanz/pytorch-CycleGAN-and-pix2pix `util/image_pool.py`), as a pure function
over a pool kept in the train state, so it is checkpointed and a resumed run is exact.

For each image of the batch, in order: while the pool holds fewer than `size` images,
the image is stored and returned; afterwards, with probability 1/2 (a uniform draw
> 0.5) a stored image chosen uniformly is returned and the new one takes its place, else
the new image is returned and the pool is unchanged. A pool of size 0 returns the batch.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp


class Pool(NamedTuple):
    images: jax.Array  # (size, H, W, C)
    count: jax.Array  # int32 (): images stored so far (at most size)


def empty(size: int, image_shape: tuple[int, ...]) -> Pool:
    return Pool(jnp.zeros((size, *image_shape), jnp.float32), jnp.zeros((), jnp.int32))


def query(pool: Pool, images: jax.Array, key: jax.Array) -> tuple[jax.Array, Pool]:
    """(the images D trains on, the updated pool)."""
    size = pool.images.shape[0]
    if size == 0:
        return images, pool

    def one(pool: Pool, inputs):
        image, image_key = inputs
        draw_key, index_key = jax.random.split(image_key)
        filling = pool.count < size
        swap = jax.random.uniform(draw_key) > 0.5
        index = jnp.where(filling, pool.count, jax.random.randint(index_key, (), 0, size))
        stored = pool.images[index]
        returned = jnp.where(~filling & swap, stored, image)
        write = filling | swap
        updated = pool.images.at[index].set(jnp.where(write, image, stored))
        return Pool(updated, pool.count + filling.astype(jnp.int32)), returned

    keys = jax.random.split(key, images.shape[0])
    pool, returned = jax.lax.scan(one, pool, (images.astype(jnp.float32), keys))
    return returned.astype(images.dtype), pool
