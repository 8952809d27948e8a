"""Multi-process runs: one process per host, joined by `jax.distributed`.

Each process feeds its share of the global batch to its own devices; the step is jitted
over the mesh of every process's devices, and XLA's collectives (gloo on CPU) do the
rest. Process 0 alone writes logs and samples; Orbax saves checkpoints collectively.
"""

import contextlib
import importlib
import os
import sys
import threading

import jax
import numpy as np
from jax.experimental import multihost_utils

from jaxgan.runtime.errors import UserError

# Environment variables read when the flags are not given.
ENV_COORDINATOR = "JAXGAN_COORDINATOR_ADDRESS"
ENV_NUM_PROCESSES = "JAXGAN_NUM_PROCESSES"
ENV_PROCESS_ID = "JAXGAN_PROCESS_ID"
ENV_TIMEOUT = "JAXGAN_DISTRIBUTED_TIMEOUT"

DEFAULT_TIMEOUT_S = 60

# Process counts that SLURM, Open MPI and MPICH/PMI set in every process of a job.
CLUSTER_SIGNS = ("SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE")


def detected_cluster() -> str | None:
    """The name of the cluster JAX's bare `jax.distributed.initialize()` would join (a
    SLURM job of several tasks, a TPU pod slice, Open MPI), or None on a lone machine.

    Asks JAX's own detectors (they read environment variables, and on a TPU VM its
    metadata server), so this agrees with what initialize() would do. They live in JAX's
    private `jax._src.clusters`, which a JAX release may move: then a machine that shows
    the signs of a cluster gets one clear error asking for the explicit settings, and a
    lone machine runs alone as before.
    """
    try:
        cluster_types = importlib.import_module("jax._src.clusters").ClusterEnv._cluster_types
    except (ImportError, AttributeError) as error:
        signs = [name for name in CLUSTER_SIGNS if os.environ.get(name, "1").strip() != "1"]
        if signs:
            raise UserError(
                f"this JAX ({jax.__version__}) has moved the cluster detection jaxgan asks "
                f"(jax._src.clusters: {error}), and {signs[0]} says this is a cluster: pass "
                f"--coordinator_address, --num_processes and --process_id (or {ENV_COORDINATOR}, "
                f"{ENV_NUM_PROCESSES}, {ENV_PROCESS_ID}), or install the JAX of constraints.txt"
            ) from error
        return None
    for env in cluster_types:
        if env.opt_in_only_method or not env.is_env_present():
            continue
        return (env.name or env.__name__) if env.get_process_count() > 1 else None
    return None


def _env_int(name: str, environ) -> int | None:
    if not environ.get(name):
        return None
    try:
        return int(environ[name])
    except ValueError as error:
        raise UserError(f"{name}={environ[name]!r} is not an integer") from error


def settings(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    environ=os.environ,
) -> dict:
    """initialize()'s arguments: the given ones, else the JAXGAN_* environment variables."""
    if num_processes is None:
        num_processes = _env_int(ENV_NUM_PROCESSES, environ)
    if process_id is None:
        process_id = _env_int(ENV_PROCESS_ID, environ)
    return {
        "coordinator_address": coordinator_address or environ.get(ENV_COORDINATOR) or None,
        "num_processes": num_processes,
        "process_id": process_id,
    }


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    timeout_s: int | None = None,
) -> bool:
    """Joins the run's other processes; returns whether this run is multi-process.

    With any of the arguments (or their JAXGAN_* environment variables) all three are
    needed; with none, it joins only a cluster that JAX detects (`detected_cluster`),
    so a run on a lone machine never connects anywhere. Must come before anything
    touches JAX's devices.

    `timeout_s` bounds both the wait for the other processes to join and how long a
    silent peer is tolerated before every process stops with an error.
    """
    given = settings(coordinator_address, num_processes, process_id)
    if timeout_s is None:
        timeout_s = _env_int(ENV_TIMEOUT, os.environ) or DEFAULT_TIMEOUT_S
    explicit = any(value is not None for value in given.values())
    if explicit:
        missing = [name for name, value in given.items() if value is None]
        if missing:
            raise UserError(
                f"a multi-process run needs --coordinator_address, --num_processes and "
                f"--process_id (or {ENV_COORDINATOR}, {ENV_NUM_PROCESSES}, {ENV_PROCESS_ID}); "
                f"missing: {', '.join(missing)}"
            )
        if not 0 <= given["process_id"] < given["num_processes"]:
            raise UserError(
                f"--process_id={given['process_id']} must be in [0, --num_processes="
                f"{given['num_processes']})"
            )
        if given["num_processes"] == 1:
            return False
    elif detected_cluster() is None:
        return False
    # CPU processes talk through gloo (JAX's default today, named so a change of default
    # cannot leave them without collectives); GPU and TPU backends ignore the setting.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    who = "this process" if given["process_id"] is None else f"process {given['process_id']}"
    where = given["coordinator_address"] or "the detected cluster's coordinator"
    count = given["num_processes"] or "the"
    timed_out = (
        f"{who} could not join the run at {where} within {timeout_s} s: are all {count} "
        "processes started, with the same --coordinator_address, and can they reach it?"
    )
    # When its wait times out, XLA aborts the process with a C++ stack dump rather than
    # raising; the watchdog, a little earlier, says why in one line and exits.
    with _watchdog(timeout_s, timed_out):
        try:
            jax.distributed.initialize(
                **given,
                initialization_timeout=timeout_s + 5,
                heartbeat_timeout_seconds=timeout_s,
                shutdown_timeout_seconds=timeout_s,
            )
        except Exception as error:  # noqa: BLE001 - XLA raises its own status errors
            raise UserError(
                f"{who} could not join the run at {where}: {_first_line(error)}"
            ) from error
    return True


@contextlib.contextmanager
def _watchdog(seconds: float, message: str):
    def expire():
        print(f"jaxgan: error: {message}", file=sys.stderr, flush=True)
        os._exit(2)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[0] if lines else type(error).__name__)[:300]


def barrier(name: str) -> None:
    """Waits until every process reaches the barrier `name` (no-op with one process)."""
    if jax.process_count() > 1:
        multihost_utils.sync_global_devices(name)


def is_main_process() -> bool:
    return jax.process_index() == 0


def agreed_stop(requested: int | None, sync_point: bool) -> int | None:
    """The signal that stops the run after this step, the same on every process.

    A signal reaches the processes of a run at different steps, and a checkpoint is a
    collective: so with several processes the stop waits for a `sync_point` (a step every
    process knows, e.g. each log step) where they agree, and one process's signal stops all.
    """
    if jax.process_count() == 1:
        return requested
    if not sync_point:
        return None
    signals = multihost_utils.process_allgather(np.int32(requested or 0))
    return int(np.max(signals)) or None


def fetch(array: jax.Array):
    """A jax.Array as NumPy on every process, gathering the rows other processes hold."""
    if array.is_fully_addressable or array.is_fully_replicated:
        return jax.device_get(array)
    return multihost_utils.process_allgather(array, tiled=True)
