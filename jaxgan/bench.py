"""Times the real train step of a config on synthetic data already on the devices.

  python -m jaxgan.bench --config=configs/dcgan.py:64 --batch_size=32 --steps=20

Prints one JSON line: img_per_s, step_ms (median), compile_s, backend, devices,
batch_size, peak_memory_bytes where the backend reports it (GPU/TPU), and
peak_host_rss_bytes (the process's peak resident memory: the measure on CPU). With
--config.steps_per_dispatch=K each timed call runs K steps; step_ms is per step.
--profile_ops=N then prints where the step's time goes (jaxgan/benchmarks/op_profile.py).
--layer_implementation=conv_transpose=xla,conv=xla times the stock lowerings instead of what
implementation="auto" picks for this backend (jaxgan/nn/layers.py).
The data are synthetic: a conditional config needs --config.num_classes=N (BENCHMARKS.md,
"BigGAN steps").
--against=NAME=VALUE,... times the step beside itself compiled under those environment
settings, steps interleaved in one process: on a shared machine, separate runs differ by more
than the few percent such a change makes.
"""

import json

from absl import app, flags, logging
from ml_collections import config_flags

from jaxgan.benchmarks.step_timing import benchmark, environment_settings, interleaved
from jaxgan.cpu import host_memory
from jaxgan.nn import layers
from jaxgan.runtime import cli

_CONFIG = config_flags.DEFINE_config_file("config", "configs/dcgan.py:64", "Config file.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", None, "Global batch; overrides the config's.")
_STEPS = flags.DEFINE_integer("steps", 20, "Timed steps.")
_WARMUP = flags.DEFINE_integer("warmup", 3, "Untimed steps after compilation.")
_LAYER_IMPLEMENTATION = flags.DEFINE_string(
    "layer_implementation",
    "",
    "What implementation='auto' means here, e.g. 'conv_transpose=xla,conv=xla': to measure "
    "each lowering of the real step on a backend (jaxgan/nn/layers.py, AUTO_IMPLEMENTATION).",
)
_AGAINST = flags.DEFINE_string(
    "against",
    "",
    "Environment settings, e.g. 'JAXGAN_ONEDNN_GEMM_MAX_MAP=0,JAXGAN_ONEDNN_THREADS=1': also "
    "compile the step with these set and time both, their steps taking turns in one process "
    "(prints a JSON line for each, then their ratio).",
)
_PROFILE_OPS = flags.DEFINE_integer(
    "profile_ops",
    0,
    "After timing, profile a few more steps and print (to stderr) the time per op "
    "category and the N slowest ops of the compiled step.",
)


def main(argv):
    host_memory.keep_freed_memory()  # before JAX starts its threads
    del argv
    logging.set_verbosity(logging.WARNING)  # JAX logs the backends it did not find at INFO
    config = _CONFIG.value
    if _BATCH_SIZE.value is not None:
        config.batch_size = _BATCH_SIZE.value
    with cli.user_errors():
        layers.override_auto_implementation(_LAYER_IMPLEMENTATION.value)
        if _AGAINST.value:
            against = environment_settings(_AGAINST.value)
            records = interleaved(config, against, _STEPS.value, _WARMUP.value)
        else:
            records = [benchmark(config, _STEPS.value, _WARMUP.value, _PROFILE_OPS.value)]
        for record in records:
            if _LAYER_IMPLEMENTATION.value:
                record["layer_implementation"] = _LAYER_IMPLEMENTATION.value
            print(json.dumps(record), flush=True)
        if len(records) == 2:
            ratio = records[1]["step_ms"] / records[0]["step_ms"]
            print(json.dumps({"step_ms_ratio_against": round(ratio, 3)}), flush=True)


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
