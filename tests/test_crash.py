"""Crashes and full disks: SIGKILL at any moment, a save the disk refuses.

The training process runs as `python -m tests.crash_child`, which is `jaxgan.main` with
faults injected (see crash_child.py), and is restarted with the same workdir.
"""

import os
import pathlib
import random
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from jaxgan.training import checkpoints, workdir
from jaxgan.training import loop as train
from tests.test_bad_inputs import the_one_error_line
from tests.test_main import ROOT, TINY
from tests.test_training import final_state


def start(run: pathlib.Path, *flags: str, **faults: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crash_child", *TINY, *flags, f"--workdir={run}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **faults},
    )


def finish(process: subprocess.Popen, timeout: float = 300) -> str:
    try:
        _, stderr = process.communicate(timeout=timeout)
    finally:
        process.kill()
    return stderr


def wait_for(process: subprocess.Popen, condition, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"exited first: {finish(process)[-2000:]}"
        assert time.monotonic() < deadline, "the moment never came"
        time.sleep(0.005)


def kill_when(process: subprocess.Popen, condition) -> None:
    wait_for(process, condition)
    process.send_signal(signal.SIGKILL)
    finish(process)
    assert process.returncode == -signal.SIGKILL


def unfinished(run: pathlib.Path) -> list[str]:
    return sorted(p.name for p in checkpoints.directory(run).glob("*.orbax-checkpoint-tmp*"))


def assert_same_as_uninterrupted(run: pathlib.Path, straight: pathlib.Path) -> None:
    config = workdir.read_config(run)
    train.train_and_evaluate(config, straight)
    resumed, resumed_progress = final_state(run, config)
    expected, expected_progress = final_state(straight, config)
    assert resumed_progress == expected_progress
    same = jax.tree.map(np.array_equal, resumed, expected)
    assert all(jax.tree.leaves(same)), "parameters differ from the uninterrupted run's"


def test_sigkill_while_a_checkpoint_is_committed_resumes_from_the_last_complete_one(tmp_path):
    run = tmp_path / "run"
    flags = ("--config.num_train_steps=6", "--config.keep_checkpoints=2")

    # Killed with checkpoint 2 written whole (state and progress) but not yet renamed.
    process = start(run, *flags, CRASH_PAUSE_BEFORE_COMMIT=f"{tmp_path}:2")
    kill_when(process, (tmp_path / "committing_2").exists)
    assert checkpoints.existing_steps(run) == []
    assert unfinished(run) == ["2.orbax-checkpoint-tmp"]
    tmp_items = sorted(p.name for p in (checkpoints.directory(run) / unfinished(run)[0]).iterdir())
    assert {"state", "progress"} <= set(tmp_items)

    # Restarted: the partial checkpoint is not restored (it starts from scratch) and is
    # removed; killed again while committing checkpoint 4.
    process = start(run, *flags, CRASH_PAUSE_BEFORE_COMMIT=f"{tmp_path}:4")
    wait_for(process, (tmp_path / "committing_4").exists)
    # A reader beside training (generate, evaluate) sees step 2 and leaves the save be.
    state, _ = final_state(run, workdir.read_config(run))
    assert int(state.step) == 2 and unfinished(run) == ["4.orbax-checkpoint-tmp"]
    kill_when(process, lambda: True)
    assert checkpoints.existing_steps(run) == [2]
    assert unfinished(run) == ["4.orbax-checkpoint-tmp"]

    stderr = finish(start(run, *flags))
    assert f"resumed {run} at step 2" in stderr, stderr[-2000:]
    assert checkpoints.existing_steps(run) == [4, 6] and unfinished(run) == []
    assert_same_as_uninterrupted(run, tmp_path / "straight")


@pytest.mark.slow
def test_sigkill_at_random_moments_never_loses_or_corrupts_the_run(tmp_path):
    run = tmp_path / "run"
    flags = ("--config.num_train_steps=40", "--config.checkpoint_every_steps=1")
    rng = random.Random(9)
    kills = mid_save = 0
    while True:
        process = start(run, *flags)
        if kills == 10:
            break
        if kills % 2:
            # The moment Orbax's temporary directory of a new checkpoint appears.
            before = set(unfinished(run))
            kill_when(process, lambda before=before: set(unfinished(run)) - before)
        else:
            killed_at = time.monotonic() + rng.uniform(2.0, 8.0)  # JAX starts in ~2-5 s
            kill_when(process, lambda killed_at=killed_at: time.monotonic() > killed_at)
        kills += 1
        mid_save += bool(unfinished(run))  # the kill left a partial checkpoint behind
    stderr = finish(process)
    assert mid_save >= 3, f"only {mid_save} of {kills} kills landed during a save"
    assert process.returncode == 0, stderr[-2000:]
    assert checkpoints.existing_steps(run)[-1] == 40 and unfinished(run) == []
    assert_same_as_uninterrupted(run, tmp_path / "straight")


def assert_refused_save_stops_training(run: pathlib.Path, problem: str, fault: str, undo=None):
    flags = ("--config.num_train_steps=6", "--config.keep_checkpoints=1")
    # Checkpoint 2 is saved, then the fault makes checkpoint 4 fail.
    process = start(run, *flags, CRASH_AFTER_SAVES="1", CRASH_FAULT=fault)
    stderr = finish(process)
    assert process.returncode == 2, stderr[-3000:]
    assert the_one_error_line(stderr) == (
        f"jaxgan: error: {problem} while writing to {run}; training stopped, the last "
        "complete checkpoint is step 2: free space or make the workdir writable, then run "
        "the same command to resume from step 2"
    )
    assert not [line for line in stderr.splitlines() if "/jaxgan/" in line], stderr[-3000:]
    # keep_checkpoints=1 did not delete checkpoint 2 for the failed 4.
    assert checkpoints.existing_steps(run) == [2]
    if undo is not None:
        undo()
    stderr = finish(start(run, *flags))
    assert f"resumed {run} at step 2" in stderr, stderr[-2000:]
    assert checkpoints.existing_steps(run) == [6] and unfinished(run) == []


def test_a_save_the_disk_refuses_stops_training_and_keeps_the_last_checkpoint(tmp_path):
    # No file may grow after checkpoint 2: works without privileges, fails with EFBIG.
    assert_refused_save_stops_training(tmp_path / "run", "File too large", "file_size")


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MiB tmpfs, where mounting is allowed (root in a privileged container)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=True)


@pytest.mark.slow
def test_a_full_disk_during_a_save_stops_training_and_keeps_the_last_checkpoint(small_disk):
    filler = small_disk / "filler"
    fill = f"dd if=/dev/zero of={filler} bs=1M 2>/dev/null"
    assert_refused_save_stops_training(
        small_disk / "run", "No space left on device", fill, undo=filler.unlink
    )


@pytest.mark.slow
def test_a_workdir_turned_read_only_during_a_save_stops_training(small_disk):
    # A read-only bind mount over checkpoints/: files already open stay writable.
    saves = small_disk / "run" / "checkpoints"
    read_only = f"mount --bind {saves} {saves} && mount -o remount,bind,ro {saves}"
    assert_refused_save_stops_training(
        small_disk / "run",
        "Read-only file system",
        read_only,
        undo=lambda: subprocess.run(["umount", str(saves)], check=True),
    )


def test_a_kill_while_a_file_is_replaced_leaves_the_old_one_whole(tmp_path):
    # config.json, sample grids and evaluation records are all written this way.
    target = tmp_path / "config.json"
    target.write_text("old")
    killed_mid_write = (
        "import os, signal\n"
        "from jaxgan.runtime import files\n"
        "def write(f):\n"
        "    f.write(b'new, half of it')\n"
        "    f.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        f"files.write_atomically({str(target)!r}, write)\n"
    )
    result = subprocess.run([sys.executable, "-c", killed_mid_write], cwd=ROOT, check=False)
    assert result.returncode == -signal.SIGKILL
    assert target.read_text() == "old"
    (leftover,) = set(tmp_path.iterdir()) - {target}
    assert leftover.name.startswith("config.json.") and leftover.name.endswith(".tmp")
