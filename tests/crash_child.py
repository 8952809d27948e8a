"""`python -m jaxgan.main` with faults injected, for the crash tests (test_crash.py).

  python -m tests.crash_child MAIN_FLAGS...

Environment variables choose the faults:
  CRASH_PAUSE_BEFORE_COMMIT=DIR:STEP  the checkpoint of STEP, written whole into Orbax's
      temporary directory, waits before the rename that commits it, and first creates
      DIR/committing_STEP: a test that sees the file kills the process mid-save.
  CRASH_FILE_SIZE_LIMIT_AFTER_SAVES=N  after N checkpoints are written, no file may grow
      past 0 bytes (RLIMIT_FSIZE), so later saves fail the way a full disk makes them fail.
"""

import os
import pathlib
import resource
import signal
import time

from absl import app
from orbax.checkpoint._src.path import atomicity

from jaxgan import checkpoints, cli, main


def pause_before_commit(marker_dir: pathlib.Path, step: str) -> None:
    commit = atomicity.AtomicRenameTemporaryPath.finalize

    async def paused(self):
        if self._final_path.name == step:
            (marker_dir / f"committing_{step}").touch()
            time.sleep(120)
        await commit(self)

    atomicity.AtomicRenameTemporaryPath.finalize = paused


def limit_file_size_after(saves: int) -> None:
    save = checkpoints.save
    done = []

    def limited(mngr, state, batches_consumed):
        if len(done) == saves:
            mngr.wait_until_finished()
            # Without this the kernel kills the process (SIGXFSZ) instead of failing the write.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
        done.append(True)
        save(mngr, state, batches_consumed)

    checkpoints.save = limited


if __name__ == "__main__":
    if "CRASH_PAUSE_BEFORE_COMMIT" in os.environ:
        marker_dir, _, step = os.environ["CRASH_PAUSE_BEFORE_COMMIT"].rpartition(":")
        pause_before_commit(pathlib.Path(marker_dir), step)
    if "CRASH_FILE_SIZE_LIMIT_AFTER_SAVES" in os.environ:
        limit_file_size_after(int(os.environ["CRASH_FILE_SIZE_LIMIT_AFTER_SAVES"]))
    app.run(main.main, flags_parser=cli.parse_flags)
