"""Checkpoints: `WORKDIR/checkpoints/<step>/` written by Orbax's CheckpointManager.

Items of each checkpoint:
  state    the whole GANState pytree (both nets, both optimisers, step, key);
  progress JSON: {'step', 'batches_consumed', 'jaxgan_version'}. `batches_consumed`
           is the data position: how many real batches the run has drawn.

Orbax writes each checkpoint into a temporary directory (`<step>.orbax-checkpoint-tmp`)
and renames it when complete, so a crash mid-write never leaves a checkpoint that would
be restored; training removes such leftovers when it starts. Old checkpoints are deleted
only after a newer one is complete, so a save that fails (a full disk) keeps them.
"""

import contextlib
import errno
import os
import pathlib
import re
from collections.abc import Iterator

import jax
import ml_collections
import orbax.checkpoint as ocp

import jaxgan
from jaxgan.runtime.errors import UserError

ITEMS = ("state", "progress")


class WriteFailed(UserError):
    """The workdir refused a write (full disk, read-only, over quota): training stops."""


class DamagedCheckpoint(UserError):
    """A checkpoint that cannot be read back (truncated, or of another model)."""


def directory(workdir: pathlib.Path) -> pathlib.Path:
    return pathlib.Path(workdir).absolute() / "checkpoints"


def existing_steps(workdir: pathlib.Path) -> list[int]:
    """Steps of the complete checkpoints in a workdir, read without Orbax (no writes)."""
    root = directory(workdir)
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.is_dir() and p.name.isdigit())


def manager(
    workdir: pathlib.Path, config: ml_collections.ConfigDict, remove_unfinished: bool = False
) -> ocp.CheckpointManager:
    """`remove_unfinished`: delete the temporary directories of saves that never completed;
    only for training, whose own saves they are (a reader beside it must not)."""
    options = ocp.CheckpointManagerOptions(
        max_to_keep=config.keep_checkpoints,
        create=True,
        cleanup_tmp_directories=remove_unfinished,
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
    except Exception as error:
        # Orbax raises a bare Exception for an array it cannot read (a truncated file).
        if not isinstance(error, (ValueError, KeyError, FileNotFoundError)) and (
            type(error) is not Exception
        ):
            raise
        raise DamagedCheckpoint(damaged_message(mngr, step, error)) from error
    return restored.state, restored.progress


def damaged_message(mngr: ocp.CheckpointManager, step: int, error: Exception) -> str:
    """What a checkpoint that cannot be restored gets: the cause, and what to do."""
    while error.__cause__ is not None:  # the innermost cause names the file and problem
        error = error.__cause__
    path = mngr.directory / str(step)
    earlier = [s for s in mngr.all_steps() if s < step]
    instead = f"resume from step {max(earlier)}" if earlier else "start from scratch"
    return (
        f"checkpoint {path} does not fit this config's model or is damaged "
        f"({type(error).__name__}: {str(error).splitlines()[0][:300]}); nothing was changed: "
        f"to {instead}, move it aside (mv {path} {path}.damaged)"
    )


# Errors only a write gets; others (permission denied) count when they name the workdir.
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def _errno(error: Exception) -> int | None:
    if isinstance(error, OSError):
        return error.errno
    # TensorStore, which writes the arrays, raises ValueError with the errno at the end.
    found = re.search(r"\[os_error_code='(\d+)'\]", str(error))
    return int(found.group(1)) if found else None


@contextlib.contextmanager
def stop_on_write_errors(workdir: pathlib.Path) -> Iterator[None]:
    """Turns a failed write under `workdir` into a WriteFailed naming the last complete
    checkpoint, which the failure left intact."""
    workdir = pathlib.Path(workdir).absolute()
    try:
        yield
    except (OSError, ValueError) as error:
        number = _errno(error)
        filename = getattr(error, "filename", None)
        where = f"{pathlib.Path(filename).absolute() if filename else ''} {error}"
        if number is None or (number not in WRITE_ERRNOS and str(workdir) not in where):
            raise
        kept = existing_steps(workdir)
        last = f"step {kept[-1]}" if kept else "none"
        resume = f"resume from step {kept[-1]}" if kept else "start again"
        raise WriteFailed(
            f"{os.strerror(number)} while writing to {workdir}; training stopped, the last "
            f"complete checkpoint is {last}: free space or make the workdir writable, then "
            f"run the same command to {resume}"
        ) from error
