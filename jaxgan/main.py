"""Trains a GAN: `python -m jaxgan.main --config=configs/dcgan.py --workdir=runs/dcgan`.

Run it again with the same --workdir to resume; --config may then be left out, and the
workdir's config.json is used. Override any config field with --config.FIELD=VALUE.

On several hosts, run the same command once per host (see launch/ and the README's
"Multi-host training"): --coordinator_address, --num_processes and --process_id, or
their JAXGAN_* environment variables, or nothing under a cluster JAX detects (SLURM,
TPU pod slices).
"""

import os
import sys

from absl import app, flags, logging
from ml_collections import config_flags

from jaxgan.cpu import host_memory
from jaxgan.runtime import cli, distributed
from jaxgan.runtime.errors import UserError
from jaxgan.training import checkpoints, interruption, workdir
from jaxgan.training import loop as train

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Config file, e.g. configs/dcgan.py or configs/dcgan.py:64.", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory of the run.", required=True)
_COORDINATOR = flags.DEFINE_string(
    "coordinator_address",
    None,
    f"host:port of process 0, where a multi-process run meets (${distributed.ENV_COORDINATOR}).",
)
_NUM_PROCESSES = flags.DEFINE_integer(
    "num_processes", None, f"Processes in the run, one per host (${distributed.ENV_NUM_PROCESSES})."
)
_PROCESS_ID = flags.DEFINE_integer(
    "process_id",
    None,
    f"This process's index, 0 to num_processes-1 (${distributed.ENV_PROCESS_ID}).",
)
_DISTRIBUTED_TIMEOUT = flags.DEFINE_integer(
    "distributed_timeout",
    None,
    "Seconds to wait for the other processes to join, and for a silent one before all stop "
    f"(${distributed.ENV_TIMEOUT}; default {distributed.DEFAULT_TIMEOUT_S}).",
)


def requested_config():
    try:
        config = _CONFIG.value
        if config is not None:
            config.to_dict()  # a file that failed to load raises only when read
        return config
    except OSError as error:
        raise UserError(cli.one_line(error)) from error


def main(argv):
    host_memory.keep_freed_memory()  # before JAX starts its threads
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    # Orbax reports every checkpoint step at INFO through absl, and a failed save at ERROR
    # from each of its threads before raising it to us: keep the console for our lines.
    logging.set_verbosity(logging.FATAL)
    with cli.user_errors():
        distributed.initialize(
            _COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value, _DISTRIBUTED_TIMEOUT.value
        )
        try:
            config = requested_config() or workdir.read_config(_WORKDIR.value)
            train.train_and_evaluate(config, _WORKDIR.value)
        except interruption.TrainingInterrupted as stopped:
            print(f"jaxgan: {stopped}", file=sys.stderr)
            sys.exit(128 + stopped.signum)
        except (checkpoints.WriteFailed, checkpoints.DamagedCheckpoint) as error:
            # A failed save can leave Orbax threads waiting for ever for a directory that
            # was never made (seen with a read-only workdir), and a failed restore leaves
            # reads in flight whose threads print "Event loop is closed" tracebacks at
            # exit: exit without joining them.
            # One write, so that the threads' output cannot land inside the line.
            sys.stderr.write(f"jaxgan: error: {error}\n")
            sys.stderr.flush()
            sys.stdout.flush()
            os._exit(2)


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
