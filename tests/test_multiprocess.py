"""`python -m jaxgan.main` as several processes joined by jax.distributed (CPU, gloo, on
127.0.0.1), and checkpoints carried between device and process counts.

Every process is a subprocess with a deadline, and --distributed_timeout bounds JAX's
own waits, so a peer that dies or never comes fails a test instead of hanging it."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from jaxgan.runtime import distributed
from jaxgan.training import checkpoints, workdir
from tests.test_main import ROOT, TINY
from tests.test_training import final_state

TIMEOUT_S = 10  # --distributed_timeout: joining, and tolerating a silent peer
RUN_TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def env_for(devices: int = 1) -> dict[str, str]:
    return {
        **os.environ,
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
    }


def start(args, processes: int, port: int) -> list[subprocess.Popen]:
    shared = [*args, f"--coordinator_address=127.0.0.1:{port}", f"--num_processes={processes}"]
    return [
        subprocess.Popen(
            [sys.executable, "-m", "jaxgan.main", *shared, f"--process_id={index}"],
            cwd=ROOT,
            env=env_for(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(processes)
    ]


def finish(running: list[subprocess.Popen], timeout: float = RUN_TIMEOUT_S) -> list[tuple]:
    """(returncode, stderr) of each process; all are killed if any outlives `timeout`."""
    deadline = time.monotonic() + timeout
    try:
        errors = [p.communicate(timeout=max(deadline - time.monotonic(), 1))[1] for p in running]
    finally:
        for p in running:
            p.kill()
    return [(p.returncode, err) for p, err in zip(running, errors, strict=True)]


def train(args, processes: int = 1, devices: int = 1) -> list[str]:
    """Runs jaxgan.main to completion; returns each process's stderr."""
    if processes == 1:
        running = [
            subprocess.Popen(
                [sys.executable, "-m", "jaxgan.main", *args],
                cwd=ROOT,
                env=env_for(devices),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        ]
    else:
        running = start([*args, f"--distributed_timeout={TIMEOUT_S}"], processes, free_port())
    results = finish(running)
    for index, (code, err) in enumerate(results):
        assert code == 0, f"process {index} of {processes}: {err[-3000:]}"
    return [err for _, err in results]


def trained(path):
    state, progress = final_state(path, workdir.read_config(path))
    return jax.tree.map(np.asarray, state), progress


def largest_difference(a, b) -> float:
    gaps = jax.tree.map(lambda x, y: float(np.max(np.abs(x.astype(float) - y.astype(float)))), a, b)
    return max(jax.tree.leaves(gaps))


def test_two_processes_train_exactly_as_one_process_with_two_devices(tmp_path):
    """Both resume a checkpoint that 8 devices wrote (Orbax reads it into each run's
    sharding), then train 2 steps on the same global batches."""
    train([*TINY, "--config.num_train_steps=2", f"--workdir={tmp_path / 'eight'}"], devices=8)
    shutil.copytree(tmp_path / "eight", tmp_path / "two")
    shutil.copytree(tmp_path / "eight", tmp_path / "one")
    args = [*TINY, "--config.num_train_steps=4"]
    two = train([*args, f"--workdir={tmp_path / 'two'}"], processes=2)
    train([*args, f"--workdir={tmp_path / 'one'}"], devices=2)

    (state_two, progress_two), (state_one, progress_one) = (
        trained(tmp_path / "two"),
        trained(tmp_path / "one"),
    )
    assert progress_two["step"] == progress_one["step"] == 4
    # Same global batch, same sharding, and a sum of two values has one order: bit-equal.
    assert largest_difference(state_two, state_one) == 0.0
    # Process 0 alone logs and writes samples; both took part in the checkpoints.
    assert f"resumed {tmp_path / 'two'} at step 2" in two[0] and "step 4/4 (100.0%)" in two[0]
    assert "step 4/4" not in two[1] and "resumed" not in two[1]
    assert sorted(p.name for p in (tmp_path / "two" / "samples").iterdir()) == [
        "step_2.png",
        "step_4.png",
    ]
    assert len(list((tmp_path / "two" / "tensorboard").iterdir())) == 2  # one per run
    assert checkpoints.existing_steps(tmp_path / "two") == [2, 4]


@pytest.mark.parametrize("process_id", [0, 1], ids=["coordinator_alone", "no_coordinator"])
def test_a_process_whose_peers_never_come_fails_in_bounded_time(tmp_path, process_id):
    began = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jaxgan.main",
            *TINY,
            f"--workdir={tmp_path / 'run'}",
            f"--coordinator_address=127.0.0.1:{free_port()}",
            "--num_processes=2",
            f"--process_id={process_id}",
            "--distributed_timeout=3",
        ],
        cwd=ROOT,
        env=env_for(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    took = time.monotonic() - began
    assert result.returncode == 2, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"jaxgan: error: process {process_id} could not join the run at ")
    assert "within 3 s" in last and "Traceback" not in result.stderr
    assert took < 40, took
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "dead,expected",
    [
        (1, "stopped sending heartbeats"),  # after --distributed_timeout
        (0, "leader task was preempted/died"),  # the coordinator: at once
    ],
    ids=["peer", "coordinator"],
)
def test_a_dead_process_stops_the_survivor_in_bounded_time(tmp_path, dead, expected):
    args = [
        *TINY,
        "--config.num_train_steps=100000",
        "--config.checkpoint_every_steps=100000",
        f"--workdir={tmp_path / 'run'}",
        f"--distributed_timeout={TIMEOUT_S}",
    ]
    running = start(args, 2, free_port())
    survivor = running[1 - dead]
    try:
        for line in running[0].stderr:  # wait until training is under way
            if line.startswith("first step"):
                break
        running[dead].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        _, rest = survivor.communicate(timeout=TIMEOUT_S + 60)
        took = time.monotonic() - killed
    finally:
        for process in running:
            process.kill()
    assert survivor.returncode != 0
    assert expected in rest, rest[-3000:]
    assert took < TIMEOUT_S + 30, took


@pytest.mark.slow
def test_a_signal_to_one_process_stops_all_at_the_same_checkpoint(tmp_path):
    run = tmp_path / "run"
    args = [
        *TINY,
        "--config.num_train_steps=100000",
        "--config.checkpoint_every_steps=100000",
        f"--workdir={run}",
    ]
    running = start(args, 2, free_port())
    for line in running[0].stderr:  # wait until training is under way
        if line.startswith("step 2/"):
            break
    running[1].send_signal(signal.SIGTERM)
    results = finish(running, timeout=120)
    for code, err in results:
        assert code == 128 + signal.SIGTERM, err[-3000:]
    assert "stopped by SIGTERM" in results[1][1]
    steps = checkpoints.existing_steps(run)
    assert len(steps) == 1 and steps[0] % 2 == 0, steps  # a log step, where they agree


@pytest.mark.slow
def test_a_checkpoint_resumes_on_other_device_and_process_counts(tmp_path):
    """8 devices write steps 1-2, 1 device resumes to 4, 2 processes resume to 6; the
    result matches an uninterrupted run on one device to float tolerance (8 devices sum
    the gradient in another order)."""
    run = tmp_path / "run"
    train([*TINY, "--config.num_train_steps=2", f"--workdir={run}"], devices=8)
    resumed = train([*TINY, "--config.num_train_steps=4", f"--workdir={run}"], devices=1)
    assert f"resumed {run} at step 2" in resumed[0]
    resumed = train([*TINY, "--config.num_train_steps=6", f"--workdir={run}"], processes=2)
    assert f"resumed {run} at step 4" in resumed[0]
    train([*TINY, "--config.num_train_steps=6", f"--workdir={tmp_path / 'straight'}"])

    (state, progress), (straight, _) = trained(run), trained(tmp_path / "straight")
    assert progress["step"] == 6 and progress["batches_consumed"] == 6
    assert checkpoints.existing_steps(run) == [2, 4, 6]
    difference = largest_difference(state, straight)
    print("largest difference from the uninterrupted run", difference)
    assert difference < 1e-4


def test_a_lone_run_joins_nothing(monkeypatch):
    for name in (
        distributed.ENV_COORDINATOR,
        distributed.ENV_NUM_PROCESSES,
        distributed.ENV_PROCESS_ID,
        "SLURM_JOB_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    assert distributed.detected_cluster() is None
    assert distributed.initialize() is False
    assert distributed.initialize("127.0.0.1:1", 1, 0) is False  # one process: nothing to join


def test_a_slurm_job_of_several_tasks_is_detected(monkeypatch):
    slurm = {
        "SLURM_JOB_ID": "42",
        "SLURM_STEP_NODELIST": "node[1-2]",
        "SLURM_NTASKS": "2",
        "SLURM_PROCID": "1",
        "SLURM_LOCALID": "0",
    }
    for name, value in slurm.items():
        monkeypatch.setenv(name, value)
    assert distributed.detected_cluster() == "slurm"
    monkeypatch.setenv("SLURM_NTASKS", "1")  # a one-task job runs as on a lone machine
    assert distributed.detected_cluster() is None


def test_a_jax_that_moved_its_cluster_detection_gets_a_clear_error_on_a_cluster(monkeypatch):
    import sys

    from jaxgan.runtime.errors import UserError

    monkeypatch.setitem(sys.modules, "jax._src.clusters", None)  # importing it fails
    for name in distributed.CLUSTER_SIGNS:
        monkeypatch.delenv(name, raising=False)
    assert distributed.detected_cluster() is None  # a lone machine runs alone
    monkeypatch.setenv("SLURM_NTASKS", "1")
    assert distributed.detected_cluster() is None
    monkeypatch.setenv("SLURM_NTASKS", "4")
    with pytest.raises(UserError, match="moved the cluster detection .* SLURM_NTASKS says"):
        distributed.detected_cluster()


def test_settings_come_from_flags_then_environment(monkeypatch):
    from jaxgan.runtime.errors import UserError

    environ = {
        distributed.ENV_COORDINATOR: "10.0.0.1:1234",
        distributed.ENV_NUM_PROCESSES: "4",
        distributed.ENV_PROCESS_ID: "3",
    }
    assert distributed.settings(environ=environ) == {
        "coordinator_address": "10.0.0.1:1234",
        "num_processes": 4,
        "process_id": 3,
    }
    assert distributed.settings(process_id=0, environ=environ)["process_id"] == 0
    with pytest.raises(UserError, match="JAXGAN_NUM_PROCESSES='four' is not an integer"):
        distributed.settings(environ={distributed.ENV_NUM_PROCESSES: "four"})
    with pytest.raises(UserError, match="missing: num_processes, process_id"):
        distributed.initialize("10.0.0.1:1234")
    with pytest.raises(UserError, match="--process_id=2 must be in"):
        distributed.initialize("10.0.0.1:1234", 2, 2)
