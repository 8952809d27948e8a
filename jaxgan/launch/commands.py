"""The commands of a run (train, then evaluate), and the scripts that run them on a
cluster: `sweep.slurm` (a SLURM job array) and `commands.sh` (one line per run)."""

import dataclasses
import datetime
import importlib.util
import pathlib
import shlex
import sys

from jaxgan.launch import rundir
from jaxgan.launch.grid import format_value
from jaxgan.launch.plan import Run, Sweep
from jaxgan.runtime.files import write_text

EVALUATE_MODULE = "jaxgan.evaluate"
SLURM_SCRIPT = "sweep.slurm"
COMMANDS_SCRIPT = "commands.sh"
XLA_CACHE_VARIABLE = "JAX_COMPILATION_CACHE_DIR"
XLA_CACHE = "xla_cache"


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """What `python -m jaxgan.evaluate` is asked for after each run: `num_samples`
    generated images (0: no evaluation) against `num_real` real ones (0: the whole split,
    which on a CPU takes hours the first time; cached after)."""

    num_samples: int
    num_real: int = 0

    def __bool__(self) -> bool:
        return self.num_samples > 0


NO_EVALUATION = Evaluation(0)


def evaluator_available() -> bool:
    """Whether this jaxgan has the evaluation binary (`python -m jaxgan.evaluate`)."""
    try:
        return importlib.util.find_spec(EVALUATE_MODULE) is not None
    except ModuleNotFoundError:  # a missing parent package
        return False


def train_argv(sweep: Sweep, run: Run, python: str = sys.executable) -> list[str]:
    """`python -m jaxgan.main` with the sweep's overrides, then the run's grid values."""
    values = {**sweep.overrides, **run.point}
    return [
        python,
        "-m",
        "jaxgan.main",
        f"--config={sweep.config}",
        *(f"--config.{field}={format_value(v)}" for field, v in values.items()),
        f"--workdir={run.workdir}",
    ]


def eval_argv(run: Run, evaluation: Evaluation, python: str = sys.executable) -> list[str]:
    argv = [
        python,
        "-m",
        EVALUATE_MODULE,
        f"--workdir={run.workdir}",
        f"--num_samples={evaluation.num_samples}",
    ]
    return argv + ([f"--num_real={evaluation.num_real}"] if evaluation.num_real else [])


def attempt_header(argv: list[str]) -> str:
    now = datetime.datetime.now().isoformat(timespec="seconds")
    return f"{rundir.ATTEMPT_MARKER} {now}: {shlex.join(argv)}"


def shell_line(sweep: Sweep, run: Run, evaluation: Evaluation) -> str:
    """One shell command doing what the launcher does for a run: train (main resumes or
    finds nothing to do) with its log, then evaluate unless already evaluated.
    `python` is the one on the job's PATH: activate the environment before."""
    workdir = shlex.quote(str(run.workdir))
    log = shlex.quote(str(run.workdir / rundir.TRAIN_LOG))
    train = shlex.join(train_argv(sweep, run, "python"))
    line = (
        f"mkdir -p {workdir} && echo {shlex.quote(rundir.ATTEMPT_MARKER)} >> {log} && "
        f"{train} >> {log} 2>&1"
    )
    if evaluation:
        metrics = shlex.quote(str(rundir.eval_metrics_path(run)))
        evaluate = shlex.join(eval_argv(run, evaluation, "python"))
        eval_log = shlex.quote(str(run.workdir / rundir.EVAL_LOG))
        line += f" && {{ [ -f {metrics} ] || {evaluate} >> {eval_log} 2>&1; }}"
    return line


def cache_line(sweep: Sweep) -> str:
    """The scripts' share of a compilation cache between runs (see execute.environment)."""
    cache = shlex.quote(str(sweep.root / XLA_CACHE))
    return f'[ -n "${XLA_CACHE_VARIABLE}" ] || export {XLA_CACHE_VARIABLE}={cache}'


def slurm_script(sweep: Sweep, runs: list[Run], evaluation: Evaluation, cwd: pathlib.Path) -> str:
    script = shlex.quote(str(sweep.root / SLURM_SCRIPT))
    cases = "\n".join(f"  {run.index}) {shell_line(sweep, run, evaluation)} ;;" for run in runs)
    return f"""#!/bin/bash
# {len(runs)} runs of the jaxgan sweep in {sweep.root}, one SLURM array task each.
# Submit from the Python environment that has jaxgan (sbatch passes it on), with your
# site's options, e.g.:
#   sbatch --partition=gpu --gres=gpu:1 --time=12:00:00 {script}
# (`--array=0-{len(runs) - 1}%4` runs at most 4 at a time). When the tasks are done,
# tabulate without running anything:
#   python -m jaxgan.launch.sweep --root={shlex.quote(str(sweep.root))} --collect
#SBATCH --job-name=jaxgan-sweep
#SBATCH --array=0-{len(runs) - 1}
#SBATCH --output={sweep.root}/slurm-%A_%a.out
cd {shlex.quote(str(cwd))} || exit 2
{cache_line(sweep)}
case "$SLURM_ARRAY_TASK_ID" in
{cases}
  *) echo "no run $SLURM_ARRAY_TASK_ID in this sweep (0-{len(runs) - 1})" >&2; exit 2 ;;
esac
"""


def commands_script(
    sweep: Sweep, runs: list[Run], evaluation: Evaluation, cwd: pathlib.Path
) -> str:
    lines = "\n".join(shell_line(sweep, run, evaluation) for run in runs)
    return f"""#!/bin/sh
# {len(runs)} runs of the jaxgan sweep in {sweep.root}: `sh {COMMANDS_SCRIPT}` runs them one
# after another. Each run's line below also works alone (its paths are absolute), e.g.
# handed to a scheduler. Then tabulate without running anything:
#   python -m jaxgan.launch.sweep --root={shlex.quote(str(sweep.root))} --collect
cd {shlex.quote(str(cwd))} || exit 2
{cache_line(sweep)}
{lines}
"""


def write_scripts(
    sweep: Sweep, runs: list[Run], evaluation: Evaluation, cwd: pathlib.Path
) -> list[pathlib.Path]:
    paths = [sweep.root / SLURM_SCRIPT, sweep.root / COMMANDS_SCRIPT]
    write_text(paths[0], slurm_script(sweep, runs, evaluation, cwd))
    write_text(paths[1], commands_script(sweep, runs, evaluation, cwd))
    for path in paths:
        path.chmod(0o755)
    return paths
