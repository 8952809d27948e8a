"""Checkpoints: `WORKDIR/checkpoints/<step>/` written by Orbax's CheckpointManager.

Items of each checkpoint:
  state    the whole GANState pytree (both nets, both optimisers, step, key);
  progress JSON: {'step', 'batches_consumed', 'jaxgan_version'}. `batches_consumed`
           is the data position: how many real batches the run has drawn.

Orbax writes each checkpoint into a temporary directory and renames it when complete,
so a crash mid-write never leaves a checkpoint that would be restored.
"""

import pathlib

import jax
import ml_collections
import orbax.checkpoint as ocp

import jaxgan
from jaxgan.errors import UserError

ITEMS = ("state", "progress")


def directory(workdir: pathlib.Path) -> pathlib.Path:
    return pathlib.Path(workdir).absolute() / "checkpoints"


def existing_steps(workdir: pathlib.Path) -> list[int]:
    """Steps of the complete checkpoints in a workdir, read without Orbax (no writes)."""
    root = directory(workdir)
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit())


def manager(workdir: pathlib.Path, config: ml_collections.ConfigDict) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(
        max_to_keep=config.keep_checkpoints,
        create=True,
        enable_async_checkpointing=True,
    )
    return ocp.CheckpointManager(directory(workdir), options=options, item_names=ITEMS)


def save(mngr: ocp.CheckpointManager, state, batches_consumed: int) -> None:
    step = int(jax.device_get(state.step))
    progress = {
        "step": step,
        "batches_consumed": batches_consumed,
        "jaxgan_version": jaxgan.__version__,
    }
    mngr.save(
        step,
        args=ocp.args.Composite(
            state=ocp.args.StandardSave(state), progress=ocp.args.JsonSave(progress)
        ),
    )


def restore(mngr: ocp.CheckpointManager, abstract_state, step: int | None = None):
    """(state, progress) of checkpoint `step` (latest by default), or None if none.

    `abstract_state` (shapes, dtypes and shardings, e.g. from `jax.eval_shape`) decides
    where the arrays land, so a checkpoint restores onto any device layout.
    """
    step = mngr.latest_step() if step is None else step
    if step is None:
        return None
    if step not in mngr.all_steps():
        raise UserError(
            f"no checkpoint of step {step} in {mngr.directory}: it has {list(mngr.all_steps())}"
        )
    try:
        restored = mngr.restore(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardRestore(abstract_state), progress=ocp.args.JsonRestore()
            ),
        )
    except (ValueError, KeyError, FileNotFoundError) as error:
        raise UserError(
            f"checkpoint {mngr.directory / str(step)} does not fit this config's model "
            f"or is damaged ({type(error).__name__}: {str(error).splitlines()[0][:200]})"
        ) from error
    return restored.state, restored.progress
