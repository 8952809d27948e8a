"""Ablation sweeps: train a grid of configs, evaluate each run, tabulate mean ± std.

    python -m jaxgan.launch.sweep --config=configs/dcgan.py \\
        --grid="loss=non_saturating,least_squares d_norm=batch_norm,none seed=0,1,2" \\
        --set="num_train_steps=2000" --root=sweeps/losses --parallel=2

Each run trains in ROOT/<field=value,...>/ (a jaxgan workdir, log in train.log); ROOT
gets sweep.json, results.csv and results.md. Run it again to resume: finished runs are
skipped, the others resume from their checkpoints. See the README's "Ablations".
"""

import sys

from absl import app, flags, logging

from jaxgan.launch import commands, launcher, plan, record
from jaxgan.runtime import cli
from jaxgan.runtime.errors import UserError

_CONFIG = flags.DEFINE_string(
    "config", None, "Config file of every run, e.g. configs/dcgan.py or configs/dcgan.py:64."
)
_GRID = flags.DEFINE_multi_string(
    "grid",
    [],
    "Fields to vary: 'FIELD=V1,V2 FIELD=V1,...' (repeatable), or a .yaml/.json file "
    "mapping fields to lists of values.",
)
_SET = flags.DEFINE_multi_string(
    "set", [], "Fixed overrides of every run: 'FIELD=VALUE ...' (repeatable)."
)
_ROOT = flags.DEFINE_string("root", None, "Directory of the sweep.", required=True)
_PARALLEL = flags.DEFINE_integer("parallel", 1, "Runs at a time on this machine.")
_PRINT = flags.DEFINE_bool(
    "print", False, "Run nothing: write ROOT/sweep.slurm and ROOT/commands.sh, print the commands."
)
_COLLECT = flags.DEFINE_bool(
    "collect", False, "Run nothing: tabulate what the runs in ROOT have written."
)
_EVAL_NUM_SAMPLES = flags.DEFINE_integer(
    "eval_num_samples",
    10000,
    "Samples per run for `python -m jaxgan.evaluate` (when this jaxgan has it); 0: no "
    "evaluation, the table shows the final training losses.",
)
_EVAL_NUM_REAL = flags.DEFINE_integer(
    "eval_num_real",
    0,
    "Real images of the reference statistics for `python -m jaxgan.evaluate` (its "
    "--num_real); 0: the whole reference split (the training set, or config.fid_reference; "
    "an hour or more on a CPU the first time, then cached).",
)


def main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    logging.set_verbosity(logging.WARNING)
    with cli.user_errors():
        if _PARALLEL.value < 1 or _EVAL_NUM_SAMPLES.value < 0 or _EVAL_NUM_REAL.value < 0:
            raise UserError("--parallel must be >= 1, --eval_num_samples and --eval_num_real >= 0")
        evaluation = commands.Evaluation(_EVAL_NUM_SAMPLES.value, _EVAL_NUM_REAL.value)
        if _PRINT.value and _COLLECT.value:
            raise UserError("--print and --collect exclude each other")
        sweep, base = launcher.resolve(_CONFIG.value, _GRID.value, _SET.value, _ROOT.value)
        runs = plan.plan_runs(sweep, base)
        record.check_and_write(sweep, runs)
        if _PRINT.value:
            launcher.print_commands(sweep, runs, evaluation)
            return
        status = launcher.launch(sweep, runs, _PARALLEL.value, evaluation, _COLLECT.value)
    sys.exit(status)


def parse_flags(argv: list[str]) -> list[str]:
    """absl's parsing, with a bad flag as one line (and main's --config.FIELD habit
    pointed at --set)."""
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        message = str(error)
        name = getattr(error, "flagname", "")
        if name.startswith("config."):
            message = f"unknown flag --{name}: fixed values are --set={name[7:]}=VALUE here"
    cli.fail(message)


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
