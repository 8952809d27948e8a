"""`python -m jaxgan.main` with faults injected, for the crash tests (test_crash.py).

  python -m tests.crash_child MAIN_FLAGS...

Environment variables choose the faults:
  CRASH_PAUSE_BEFORE_COMMIT=DIR:STEP  the checkpoint of STEP, written whole into Orbax's
      temporary directory, waits before the rename that commits it, and first creates
      DIR/committing_STEP: a test that sees the file kills the process mid-save.
  CRASH_AFTER_SAVES=N  once N checkpoints are complete, CRASH_FAULT happens:
  CRASH_FAULT=file_size  no file may grow past 0 bytes (RLIMIT_FSIZE), so later saves
      fail the way a full disk makes them fail (EFBIG instead of ENOSPC);
  CRASH_FAULT=COMMAND  the shell command runs, e.g. one that fills the disk.
"""

import os
import pathlib
import resource
import signal
import subprocess
import time

from absl import app
from orbax.checkpoint._src.path import atomicity

from jaxgan import main
from jaxgan.runtime import cli
from jaxgan.training import checkpoints


def pause_before_commit(marker_dir: pathlib.Path, step: str) -> None:
    commit = atomicity.AtomicRenameTemporaryPath.finalize

    async def paused(self):
        if self._final_path.name == step:
            (marker_dir / f"committing_{step}").touch()
            time.sleep(120)
        await commit(self)

    atomicity.AtomicRenameTemporaryPath.finalize = paused


def limit_file_size() -> None:
    # Without this the kernel kills the process (SIGXFSZ) instead of failing the write.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))


def fault_after(saves: int, fault: str) -> None:
    save = checkpoints.save
    done = []

    def save_then_fault(mngr, state, batches_consumed):
        if len(done) == saves:
            mngr.wait_until_finished()
            if fault == "file_size":
                limit_file_size()
            else:
                subprocess.run(fault, shell=True, check=False)
        done.append(True)
        save(mngr, state, batches_consumed)

    checkpoints.save = save_then_fault


if __name__ == "__main__":
    if "CRASH_PAUSE_BEFORE_COMMIT" in os.environ:
        marker_dir, _, step = os.environ["CRASH_PAUSE_BEFORE_COMMIT"].rpartition(":")
        pause_before_commit(pathlib.Path(marker_dir), step)
    if "CRASH_AFTER_SAVES" in os.environ:
        fault_after(int(os.environ["CRASH_AFTER_SAVES"]), os.environ["CRASH_FAULT"])
    app.run(main.main, flags_parser=cli.parse_flags)
