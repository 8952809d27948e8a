"""Images from a trained run: its generator restored from a checkpoint, run in batches
sharded over every device."""

import dataclasses
import functools
import pathlib
from collections.abc import Callable, Iterator
from typing import Any

import flax.linen as nn
import jax
import ml_collections
import numpy as np
import orbax.checkpoint as ocp
import tqdm
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

import jaxgan
from jaxgan.runtime import sharding
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import images, standing_stats
from jaxgan.training import checkpoints
from jaxgan.training import state as train_state
from jaxgan.training import workdir as workdir_lib
from jaxgan.training.state import NetState, TrainState


@dataclasses.dataclass(frozen=True)
class Restored:
    """A checkpoint of a run, restored: its config, step, family, modules and state."""

    config: ml_collections.ConfigDict
    step: int
    family: Any
    nets: dict[str, nn.Module]
    state: TrainState

    @property
    def generator(self) -> nn.Module:
        return self.nets[self.family.GENERATOR]

    @functools.cached_property
    def net(self) -> NetState:
        """The generator's variables to sample with (see generator_net)."""
        return generator_net(self.state, self.config, self.family, self.generator)


def generator_net(
    state: TrainState, config: ml_collections.ConfigDict, family, generator: nn.Module
) -> NetState:
    """The generator's variables that every sample is drawn with (training's grids,
    jaxgan.sample, FID): the moving average of its parameters when the run keeps one and
    config.sample_with_ema (default), with the live net's BatchNorm statistics (their
    moving average under config.ema_collections), or with config.standing_stats_batches
    > 0 statistics re-estimated for those parameters (standing_stats.py); else its own
    parameters."""
    name = family.GENERATOR
    net, average = state.nets[name], state.ema.get(name)
    if average is not None and config.get("sample_with_ema", True):
        net = net.replace(params=average)
        averaged = state.ema.get(train_state.collections_key(name))
        if averaged is not None:
            net = net.replace(collections=averaged)
    batches = config.get("standing_stats_batches", 0)
    # Sampling with batch statistics (sample_with_running_stats False) never reads them.
    if batches and config.sample_with_running_stats:
        key = jax.random.key(config.seed + STANDING_STATS_SEED_OFFSET)
        net = standing_stats.standing_net(generator, net, config, batches, key)
    return net


# The latents of standing statistics: a stream of their own (the grid's is seed + 1).
STANDING_STATS_SEED_OFFSET = 3


def abstract_state(config, family, nets, mesh: jax.sharding.Mesh) -> TrainState:
    """The shapes, dtypes and (replicated) shardings of the family's state."""
    init = functools.partial(train_state.initial_state, config=config, family=family, nets=nets)
    return jax.eval_shape(jax.jit(init, out_shardings=sharding.replicated(mesh)), jax.random.key(0))


def _read_only_manager(workdir: pathlib.Path) -> ocp.CheckpointManager:
    # Sampling and evaluation may run beside training: never create, clean or delete.
    options = ocp.CheckpointManagerOptions(read_only=True, create=False)
    return ocp.CheckpointManager(
        checkpoints.directory(workdir), options=options, item_names=checkpoints.ITEMS
    )


def check_version(progress: dict, where: pathlib.Path) -> None:
    """Refuse a checkpoint written by a jaxgan of another major.minor version."""
    written = str(progress.get("jaxgan_version", "unknown"))
    if written.split(".")[:2] != jaxgan.__version__.split(".")[:2]:
        raise UserError(
            f"checkpoint {where} was written by jaxgan {written}, this is jaxgan "
            f"{jaxgan.__version__}: sample or evaluate it with the version that trained it"
        )


def restore(
    workdir: pathlib.Path, step: int | None = None, mesh: jax.sharding.Mesh | None = None
) -> Restored:
    """Checkpoint `step` (the latest by default) of a workdir, its state replicated on the
    mesh's devices (every device by default). Reads the workdir, writes nothing: the one
    way from a checkpoint to a generator, for jaxgan.sample and jaxgan.evaluate."""
    workdir = pathlib.Path(workdir)
    config = workdir_lib.read_config(workdir)
    steps = checkpoints.existing_steps(workdir)
    directory = checkpoints.directory(workdir)
    if not steps:
        raise UserError(
            f"{workdir} has no checkpoint in {directory}: train first "
            f"with `python -m jaxgan.main --workdir={workdir}`"
        )
    if step is not None and step not in steps:
        raise UserError(f"{workdir} has no checkpoint of step {step}: it has steps {steps}")
    step = steps[-1] if step is None else step
    workdir_lib.check_version(workdir)
    family, nets = train_state.resolve(config)
    mngr = _read_only_manager(workdir)
    try:
        try:
            restored = mngr.restore(step, args=ocp.args.Composite(progress=ocp.args.JsonRestore()))
        except (ValueError, KeyError, OSError) as error:
            raise UserError(
                f"checkpoint {directory / str(step)} has no readable progress item: it was not "
                f"written by jaxgan or is damaged ({type(error).__name__})"
            ) from error
        check_version(restored.progress or {}, directory / str(step))
        abstract = abstract_state(config, family, nets, mesh or sharding.data_mesh())
        state, _ = checkpoints.restore(mngr, abstract, step)
    finally:
        mngr.close()
    return Restored(config, step, family, nets, state)


def check_generates_from_noise(restored: Restored, workdir) -> None:
    """Refuses an image-to-image run where samples from noise are asked for."""
    if hasattr(restored.family, "translate"):
        raise UserError(
            f"{workdir} is a {restored.config.family} run, which translates images rather "
            f"than generating them from noise: apply it with python -m jaxgan.translate "
            f"--workdir={workdir} --input=IMAGES --out=OUT"
        )


# jaxgan 0.1's name, kept for scripts that call it.
restore_generator = restore


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
