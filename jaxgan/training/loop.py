"""The training loop: `train_and_evaluate(config, workdir)`.

Everything it calls is importable on its own: the state (train_state.py), the step
(train_step.py), data (datasets/, input_pipeline.py), checkpoints (checkpoints.py),
the workdir layout (workdir.py) and logging (summary.py).
"""

import functools
import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from clu import parameter_overview

from jaxgan import families
from jaxgan.config import validation as config_validation
from jaxgan.data import datasets
from jaxgan.data import pipeline as input_pipeline
from jaxgan.metrics import evaluation
from jaxgan.nn import conditioning
from jaxgan.runtime import distributed, files, sharding, summary, wandb_log
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import images, scatter
from jaxgan.sampling import restore as generate
from jaxgan.sampling import sampler as sampling
from jaxgan.training import checkpoints, finetune, interruption
from jaxgan.training import state as train_state
from jaxgan.training import step as train_step_lib
from jaxgan.training import workdir as workdir_lib
from jaxgan.training.state import create_train_state
from jaxgan.training.step import make_train_step

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
    """Means over the history; a call of several steps gives each metric per step."""
    fetched = jax.device_get(history)
    return {
        name: float(np.mean(np.concatenate([np.ravel(m[name]) for m in fetched])))
        for name in fetched[0]
    }


def dispatch_sizes(start_step: int, config: ml_collections.ConfigDict):
    """Steps per compiled call from start_step to num_train_steps: steps_per_dispatch at a
    time, but never across a logging or checkpoint step (they run between calls); what is
    left before such a step goes one step per call, so at most two step functions compile.
    """
    step, chunk = start_step, config.steps_per_dispatch
    while step < config.num_train_steps:
        boundary = min(
            config.num_train_steps,
            (step // config.log_every_steps + 1) * config.log_every_steps,
            (step // config.checkpoint_every_steps + 1) * config.checkpoint_every_steps,
        )
        size = chunk if step + chunk <= boundary else 1
        step += size
        yield size


def check_finite(step: int, metrics: dict[str, float], last_saved: int | None) -> None:
    bad = [name for name, value in metrics.items() if not np.isfinite(value)]
    if bad:
        kept = f"the last good checkpoint is step {last_saved}" if last_saved else "no checkpoint"
        raise TrainingDiverged(
            f"training diverged: {', '.join(bad)} not finite at step {step}; {kept} "
            "(nothing non-finite was saved). Lower the learning rates or change the loss."
        )


def write_samples(
    writer, workdir, step, sampler, net, fixed: sampling.GridInputs, centres=None
) -> None:
    """The sample grid of the generator's variables `net` (generate.generator_net), or
    for 2D data with known mode centres a scatter plot of the samples over the centres
    (samples/scatter_<step>.png). Every process takes part in generating; process 0
    alone writes."""
    outputs = distributed.fetch(sampler(net, fixed.z, fixed.labels))
    if not distributed.is_main_process():
        return
    if centres is not None:
        picture, name = scatter.scatter(outputs, centres), f"scatter_{step}.png"
    else:
        picture, name = images.grid(images.to_uint8(outputs), fixed.columns), f"step_{step}.png"
    images.save_png(pathlib.Path(workdir) / "samples" / name, picture)
    writer.image(step, "samples", picture)


def write_strip(writer, workdir, step, state, preview, inputs) -> None:
    """An image-to-image family's strip (family.preview: (rows, columns, H, W, C), each
    row input | output | ...) as samples/step_<step>.png and a TensorBoard image."""
    outputs = distributed.fetch(preview(state, inputs))
    if not distributed.is_main_process():
        return
    columns = outputs.shape[1]
    picture = images.grid(images.to_uint8(outputs.reshape(-1, *outputs.shape[2:])), columns)
    images.save_png(pathlib.Path(workdir) / "samples" / f"step_{step}.png", picture)
    writer.image(step, "samples", picture)


@functools.partial(jax.jit, static_argnums=1)
def stack_steps(batches: list[dict], mesh) -> dict:
    """One call's batches of several steps, stacked on a new leading axis on the devices."""
    stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *batches)
    return jax.lax.with_sharding_constraint(stacked, sharding.batch_sharding(mesh, 2))


def parameter_table(workdir: pathlib.Path, state) -> str:
    """Writes WORKDIR/parameters.txt, clu's table of every net's parameters (shapes and
    sizes; no statistics, which would pull every array to the host), and returns the
    console's one-line summary of it."""
    tables, counts = [], []
    for name, net in state.nets.items():
        table = parameter_overview.get_parameter_overview(net.params, include_stats=False)
        tables.append(f"net {name}\n{table}\n")
        counts.append(f"{name} {parameter_overview.count_parameters(net.params):,}")
    if distributed.is_main_process():
        files.write_text(workdir / "parameters.txt", "\n".join(tables))
    return f"parameters: {', '.join(counts)} (table: {workdir / 'parameters.txt'})"


def describe(config: ml_collections.ConfigDict) -> str:
    """The run's family and nets, for the first console line."""
    return config.model if config.family == "gan" else f"the {config.family} family"


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str) -> None:
    """Trains (or resumes) the run of `config` in `workdir` up to num_train_steps.

    A write the disk refuses (full, read-only) stops training with a WriteFailed; the
    checkpoints already complete stay.
    """
    with checkpoints.stop_on_write_errors(workdir):
        _train_and_evaluate(config, pathlib.Path(workdir))


def _train_and_evaluate(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
    config_validation.validate(config)
    config_validation.warn_about_combinations(config)
    mesh = sharding.data_mesh()
    sharding.check_batch_size(config.batch_size, mesh)
    if jax.process_count() > 1 and config.get("fid_every_steps"):
        raise UserError(
            "config.fid_every_steps is for single-process runs: set it to 0 and score the "
            "checkpoints with python -m jaxgan.evaluate, as a job of its own"
        )
    wandb_log.check_installed(config)
    workdir_lib.check(workdir, config)
    family_module = families.of(config)
    # A loss network's weights (srgan's VGG19), read and checked before the data are
    # decoded (hours, for a large folder the first time) and before the workdir is made.
    frozen = ()
    if train_step_lib.needs_frozen_inputs(config, family_module):
        frozen = (jax.device_put(family_module.frozen_inputs(config), sharding.replicated(mesh)),)
    # A family may read its data otherwise (srgan: at the size its crops are taken from).
    dataset = datasets.load(getattr(family_module, "data_config", lambda c: c)(config))
    config_validation.check_data_dim(config, dataset)
    config = conditioning.resolve_num_classes(config, dataset)
    if hasattr(family_module, "resolve_config"):
        config = family_module.resolve_config(config, dataset)
    source = None
    if config.get("init_from") and not checkpoints.existing_steps(workdir):
        # Checked (and read) before the workdir is made: a run that does not fit writes
        # nothing. A resumed run continues from its own checkpoint instead.
        source = finetune.load_source(config, mesh)

    # Every process has checked the workdir before process 0 writes to it.
    distributed.barrier("workdir checked")
    kept = None
    if distributed.is_main_process():
        kept = workdir_lib.create(workdir, config)
    distributed.barrier("workdir created")
    family, nets = train_state.resolve(config)
    state = create_train_state(config, jax.random.key(config.seed), mesh, family=family, nets=nets)
    mngr = checkpoints.manager(workdir, config, remove_unfinished=True)
    restored = checkpoints.restore(mngr, state)
    batches_consumed, initialised_from = 0, None
    if restored is not None:
        state, progress = restored
        batches_consumed = progress["batches_consumed"]
    elif source is not None:
        state, initialised_from = finetune.apply_source(state, source, config), source.step
    del source  # the source's whole state (optimisers too) need not stay on the devices
    start_step = int(jax.device_get(state.step))

    main_process = distributed.is_main_process()
    wandb_run = None
    if main_process and config.get("wandb_project"):
        wandb_run = wandb_log.Run(config, workdir)
    writer = summary.Writer(workdir / "tensorboard", enabled=main_process, wandb_run=wandb_run)
    if kept is not None:
        writer.console(
            f"{workdir} held a run of another config that saved no checkpoint: its "
            f"config.json, samples and logs are kept in {kept.name}/; this run starts afresh"
        )
    if restored is not None:
        writer.console(f"resumed {workdir} at step {start_step}")
    else:
        if initialised_from is not None:
            copied = "weights, statistics, moving averages"
            copied += " and optimiser states" if config.get("init_optimizer") else ""
            writer.console(f"started from {config.init_from} (step {initialised_from}): {copied}")
        writer.console(parameter_table(workdir, state))
        note = getattr(family, "schedule_note", lambda config: None)(config)
        if note:
            writer.console(note)
        writer.console(
            f"training {describe(config)} on {config.dataset} ({len(dataset)} images) for "
            f"{config.num_train_steps} steps on {mesh.devices.size} {jax.default_backend()} "
            f"device(s) in {jax.process_count()} process(es); workdir {workdir}"
        )
    if start_step >= config.num_train_steps:
        writer.console(f"nothing to do: step {start_step} >= num_train_steps")
        mngr.close()
        writer.close()
        return

    step_functions = {}  # steps per call -> its compiled step
    batch_sharding = sharding.batch_sharding(mesh)
    to_devices = functools.partial(jax.make_array_from_process_local_data, batch_sharding)
    local_batches = getattr(family, "real_batches", input_pipeline.real_batches)(
        dataset, config, batches_consumed, jax.process_index(), jax.process_count()
    )
    batches = input_pipeline.prefetch(
        local_batches, config.prefetch_batches, lambda b: jax.tree.map(to_devices, b)
    )
    sampler = sampling.make_sampler(nets[family.GENERATOR], config.sample_with_running_stats)
    strip = None
    if hasattr(family, "preview"):  # image-to-image: input | output | ... strips
        strip = (
            jax.jit(functools.partial(family.preview, config=config, nets=nets)),
            family.preview_inputs(dataset, config),
        )
    fixed = sampling.grid_inputs(jax.random.key(config.seed + 1), config)
    centres_of = getattr(datasets.module(config), "centres", None)
    centres = centres_of() if config.data_dim and centres_of else None
    if centres is not None and start_step == 0:
        # The 2D benchmarks' pictures start from the untrained G (Metz et al.'s figure 2).
        net = generate.generator_net(state, config, family, nets[family.GENERATOR])
        write_samples(writer, workdir, 0, sampler, net, fixed, centres)
    progress = summary.Progress(start_step, config.num_train_steps, config.batch_size)
    last_saved = mngr.latest_step()
    history = []
    last_console = time.monotonic()
    try:
        with interruption.StopRequest() as stop:
            step = start_step
            for size in dispatch_sizes(start_step, config):
                if size not in step_functions:
                    step_functions[size] = make_train_step(
                        config, mesh, steps=size, family=family, nets=nets
                    )
                batch = (
                    next(batches)
                    if size == 1
                    else stack_steps([next(batches) for _ in range(size)], mesh)
                )
                state, metrics = step_functions[size](state, batch, *frozen)
                step += size
                batches_consumed += size * config.d_steps
                if step == start_step + size:
                    jax.block_until_ready(metrics)
                    elapsed = progress.restart(step)
                    what = "first step" if size == 1 else f"first {size} steps (one call)"
                    writer.console(f"{what} (with compilation) took {elapsed:.1f} s")
                history.append(metrics)
                # At most two steps in flight: JAX dispatches steps without waiting, and
                # with slow steps (minutes each: a full BigGAN on a CPU) the loop would run
                # up to a log step ahead, so progress lines and Ctrl-C would wait hours.
                if len(history) >= 2:
                    jax.block_until_ready(history[-2])
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
                        summary.train_line(
                            step,
                            config.num_train_steps,
                            averaged,
                            speed,
                            critic=config.get("loss") == "wasserstein",
                        )
                    )
                    last_console = time.monotonic()
                stopping = distributed.agreed_stop(stop.requested, sync_point=logged)
                if step % config.checkpoint_every_steps == 0 or last or stopping:
                    check_finite(step, mean_metrics([metrics]), last_saved)
                    if not bool(all_finite(state)):
                        check_finite(step, {"parameters": float("nan")}, last_saved)
                    checkpoints.save(mngr, state, batches_consumed)
                    last_saved = step
                    net = None
                    if strip is not None:
                        write_strip(writer, workdir, step, state, *strip)
                    elif centres is not None or not config.data_dim:
                        net = generate.generator_net(state, config, family, nets[family.GENERATOR])
                        write_samples(writer, workdir, step, sampler, net, fixed, centres)
                    if config.get("fid_every_steps") and step % config.fid_every_steps == 0:
                        evaluation.evaluate_during_training(config, workdir, state, writer, net)
                if stopping:
                    mngr.wait_until_finished()
                    raise interruption.TrainingInterrupted(stopping, step)
        mngr.wait_until_finished()
        writer.console(f"done: step {config.num_train_steps}; checkpoints in {mngr.directory}")
    finally:
        batches.close()
        mngr.wait_until_finished()
        mngr.close()
        writer.close(failed=sys.exc_info()[0] is not None)
