"""The training loop: `train_and_evaluate(config, workdir)`.

Everything it calls is importable on its own: the state (train_state.py), the step
(train_step.py), data (datasets/, input_pipeline.py), checkpoints (checkpoints.py),
the workdir layout (workdir.py) and logging (summary.py).
"""

import functools
import pathlib
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgan import (
    checkpoints,
    conditioning,
    config_validation,
    datasets,
    evaluation,
    images,
    input_pipeline,
    interruption,
    models,
    sampling,
    scatter,
    sharding,
    summary,
)
from jaxgan import (
    workdir as workdir_lib,
)
from jaxgan.errors import UserError
from jaxgan.train_state import create_train_state
from jaxgan.train_step import make_train_step

CONSOLE_SECONDS = 30


class TrainingDiverged(UserError):
    """A loss or parameter became NaN or infinite."""


@jax.jit
def all_finite(tree) -> jax.Array:
    leaves = [
        jnp.all(jnp.isfinite(x))
        for x in jax.tree.leaves(tree)
        if jnp.issubdtype(x.dtype, jnp.floating)
    ]
    return jnp.all(jnp.stack(leaves))


def mean_metrics(history: list[dict]) -> dict[str, float]:
    fetched = jax.device_get(history)
    return {name: float(np.mean([m[name] for m in fetched])) for name in fetched[0]}


def check_finite(step: int, metrics: dict[str, float], last_saved: int | None) -> None:
    bad = [name for name, value in metrics.items() if not np.isfinite(value)]
    if bad:
        kept = f"the last good checkpoint is step {last_saved}" if last_saved else "no checkpoint"
        raise TrainingDiverged(
            f"training diverged: {', '.join(bad)} not finite at step {step}; {kept} "
            "(nothing non-finite was saved). Lower the learning rates or change the loss."
        )


def write_samples(
    writer, workdir, step, sampler, state, fixed: sampling.GridInputs, centres=None
) -> None:
    """The sample grid, or for 2D data with known mode centres a scatter plot of the
    samples over the centres (samples/scatter_<step>.png)."""
    outputs = jax.device_get(sampler(state.g, fixed.z, fixed.labels))
    if centres is not None:
        picture, name = scatter.scatter(outputs, centres), f"scatter_{step}.png"
    else:
        picture, name = images.grid(images.to_uint8(outputs), fixed.columns), f"step_{step}.png"
    if jax.process_index() == 0:
        images.save_png(pathlib.Path(workdir) / "samples" / name, picture)
    writer.image(step, "samples", picture)


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> None:
    """Trains (or resumes) the run of `config` in `workdir` up to num_train_steps."""
    workdir = pathlib.Path(workdir)
    config_validation.validate(config)
    config_validation.warn_about_combinations(config)
    mesh = sharding.data_mesh()
    sharding.check_batch_size(config.batch_size, mesh)
    workdir_lib.check(workdir, config)
    dataset = datasets.load(config)
    config_validation.check_data_dim(config, dataset)
    config = conditioning.resolve_num_classes(config, dataset)

    workdir_lib.create(workdir, config)
    generator, discriminator = models.build(config)
    state = create_train_state(
        config, jax.random.key(config.seed), mesh, generator=generator, discriminator=discriminator
    )
    mngr = checkpoints.manager(workdir, config)
    restored = checkpoints.restore(mngr, state)
    batches_consumed = 0
    if restored is not None:
        state, progress = restored
        batches_consumed = progress["batches_consumed"]
    start_step = int(jax.device_get(state.step))

    writer = summary.Writer(workdir / "tensorboard", enabled=jax.process_index() == 0)
    if restored is not None:
        writer.console(f"resumed {workdir} at step {start_step}")
    else:
        writer.console(
            f"training {config.model} on {config.dataset} ({len(dataset)} images) for "
            f"{config.num_train_steps} steps on {mesh.devices.size} {jax.default_backend()} "
            f"device(s); workdir {workdir}"
        )
    if start_step >= config.num_train_steps:
        writer.console(f"nothing to do: step {start_step} >= num_train_steps")
        mngr.close()
        writer.close()
        return

    train_step = make_train_step(config, mesh, generator, discriminator)
    batch_sharding = sharding.batch_sharding(mesh)
    to_devices = functools.partial(jax.make_array_from_process_local_data, batch_sharding)
    local_batches = input_pipeline.real_batches(
        dataset, config, batches_consumed, jax.process_index(), jax.process_count()
    )
    batches = input_pipeline.prefetch(
        local_batches, config.prefetch_batches, lambda b: jax.tree.map(to_devices, b)
    )
    sampler = sampling.make_sampler(generator, config.sample_with_running_stats)
    fixed = sampling.grid_inputs(jax.random.key(config.seed + 1), config)
    centres_of = getattr(datasets.module(config), "centres", None)
    centres = centres_of() if config.data_dim and centres_of else None
    progress = summary.Progress(start_step, config.num_train_steps, config.batch_size)
    last_saved = mngr.latest_step()
    history = []
    last_console = time.monotonic()
    try:
        with interruption.StopRequest() as stop:
            for step in range(start_step + 1, config.num_train_steps + 1):
                state, metrics = train_step(state, next(batches))
                batches_consumed += config.d_steps
                if step == start_step + 1:
                    jax.block_until_ready(metrics)
                    elapsed = progress.restart(step)
                    writer.console(f"first step (with compilation) took {elapsed:.1f} s")
                history.append(metrics)
                last = step == config.num_train_steps
                logged = step % config.log_every_steps == 0 or last
                # Between log steps, a console line at least every 30 s shows progress.
                if logged or time.monotonic() - last_console > CONSOLE_SECONDS:
                    averaged = mean_metrics(history)
                    check_finite(step, averaged, last_saved)
                    speed = progress.update(step)
                    if logged:
                        history = []
                        timed = {k: v for k, v in speed.items() if np.isfinite(v)}
                        writer.scalars(step, {**averaged, **timed})
                    writer.console(
                        summary.train_line(step, config.num_train_steps, averaged, speed)
                    )
                    last_console = time.monotonic()
                if step % config.checkpoint_every_steps == 0 or last or stop.requested:
                    check_finite(step, mean_metrics([metrics]), last_saved)
                    if not bool(all_finite(state)):
                        check_finite(step, {"parameters": float("nan")}, last_saved)
                    checkpoints.save(mngr, state, batches_consumed)
                    last_saved = step
                    if centres is not None or not config.data_dim:
                        write_samples(writer, workdir, step, sampler, state, fixed, centres)
                    if config.get("fid_every_steps") and step % config.fid_every_steps == 0:
                        evaluation.evaluate_during_training(config, workdir, state, writer)
                if stop.requested:
                    mngr.wait_until_finished()
                    raise interruption.TrainingInterrupted(stop.requested, step)
        mngr.wait_until_finished()
        writer.console(f"done: step {config.num_train_steps}; checkpoints in {mngr.directory}")
    finally:
        batches.close()
        mngr.wait_until_finished()
        mngr.close()
        writer.close()
