"""Images from a trained run: its generator restored from a checkpoint, run in batches
sharded over every device."""

import functools
import pathlib
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import jax
import ml_collections
import numpy as np
import tqdm
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxgan import checkpoints, images, models, sharding
from jaxgan import workdir as workdir_lib
from jaxgan.errors import UserError
from jaxgan.train_state import NetState, create_train_state


class Restored(NamedTuple):
    config: ml_collections.ConfigDict
    generator: Any  # the Flax module
    net: NetState  # the generator's variables to sample with


def restore_generator(
    workdir: pathlib.Path, step: int | None = None, mesh: jax.sharding.Mesh | None = None
) -> Restored:
    """The generator of checkpoint `step` (latest by default) of a workdir, replicated on
    the mesh's devices; reads the workdir and writes nothing.

    When the state holds a moving average of G's parameters (`state.g_ema`, not None),
    those are the parameters returned, with the live G's BatchNorm statistics: the
    average gives better samples than the raw weights.
    """
    workdir = pathlib.Path(workdir)
    config = workdir_lib.read_config(workdir)
    steps = checkpoints.existing_steps(workdir)
    if not steps:
        raise UserError(
            f"{workdir} has no checkpoint in {checkpoints.directory(workdir)}: train first "
            f"with `python -m jaxgan.main --workdir={workdir}`"
        )
    if step is not None and step not in steps:
        raise UserError(f"{workdir} has no checkpoint of step {step}: it has steps {steps}")
    mesh = mesh or sharding.data_mesh()
    generator, discriminator = models.build(config)
    make_state = functools.partial(
        create_train_state, config, None, mesh, generator=generator, discriminator=discriminator
    )
    replicated = sharding.replicated(mesh)
    abstract = jax.tree.map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=replicated),
        jax.eval_shape(make_state),
    )
    step = steps[-1] if step is None else step
    mngr = checkpoints.manager(workdir, config)
    try:
        state, _ = checkpoints.restore(mngr, abstract, step)
    finally:
        mngr.close()
    ema_params = getattr(state, "g_ema", None)
    net = state.g if ema_params is None else state.g.replace(params=ema_params)
    return Restored(config, generator, net)


def batches(
    sample: Callable[[NetState, jax.Array], jax.Array],
    net: NetState,
    latents: Callable[[jax.Array, jax.Array], jax.Array],
    latent_input: jax.Array,
    num: int,
    batch_size: int,
    mesh: jax.sharding.Mesh,
    labels: Callable[[jax.Array], jax.Array] | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yields (index of the first image, uint8 images) for images 0..num-1, with a
    progress bar.

    `latents(latent_input, indices)` gives the batch's z; `latent_input` (a PRNG key, or
    a table of latents) is an argument rather than a constant, so another seed reuses
    the compiled program. `labels(indices)` gives a conditional G's classes. Every batch
    has batch_size rows (the last is padded and cut), so it compiles once; rows are
    split over the mesh's devices.
    """
    rows = NamedSharding(mesh, P("data"))

    # One program for latents, labels and generator together.
    @jax.jit
    def generate_batch(net, source, indices):
        classes = None if labels is None else labels(indices)
        return sample(net, latents(source, indices), classes)

    with tqdm.tqdm(total=num, desc="sampling", unit="image") as progress:
        for start in range(0, num, batch_size):
            indices = jax.device_put(np.arange(start, start + batch_size), rows)
            batch = generate_batch(net, latent_input, indices)
            pixels = images.to_uint8(jax.device_get(batch))[: num - start]
            progress.update(len(pixels))
            yield start, pixels
