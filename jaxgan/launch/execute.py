"""Running a sweep's runs on this machine, `parallel` at a time, each a subprocess of
`python -m jaxgan.main` (and of the evaluation binary), with progress and an ETA."""

import concurrent.futures
import os
import pathlib
import subprocess
import sys
import time
from collections.abc import Callable

from jaxgan.launch import commands, rundir
from jaxgan.launch.plan import Run, Sweep
from jaxgan.runtime.summary import format_duration


def environment(root: pathlib.Path) -> dict[str, str]:
    """The runs' environment: this one, with JAX's persistent compilation cache in
    ROOT/xla_cache unless one is set. The seeds of a grid point run the same programs,
    so each is compiled once per sweep instead of once per run."""
    return {commands.XLA_CACHE_VARIABLE: str(root / commands.XLA_CACHE), **os.environ}


def run_logged(argv: list[str], log_name: str, run: Run, env: dict[str, str]) -> int:
    """Runs argv with stdout and stderr appended to the run's log; its exit status."""
    run.workdir.mkdir(parents=True, exist_ok=True)
    with open(run.workdir / log_name, "a") as log:
        print(commands.attempt_header(argv), file=log, flush=True)
        result = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, env=env, check=False)
    return result.returncode


def complete(run: Run, sweep: Sweep, evaluation: commands.Evaluation) -> str | None:
    """Trains the run to its last step (main resumes it) and evaluates it: None when
    its metrics are there, else the error line that says why not."""
    env = environment(sweep.root)
    if not rundir.trained(run):
        status = run_logged(commands.train_argv(sweep, run), rundir.TRAIN_LOG, run, env)
        if status != 0:
            error = rundir.error_line(run.workdir / rundir.TRAIN_LOG)
            return error or f"training exited with status {status}"
    if evaluation and not rundir.eval_metrics_path(run).exists():
        status = run_logged(commands.eval_argv(run, evaluation), rundir.EVAL_LOG, run, env)
        if status != 0:
            error = rundir.error_line(run.workdir / rundir.EVAL_LOG)
            return error or f"evaluation exited with status {status}"
    if rundir.final_metrics(run, bool(evaluation)) is None:
        return f"finished, but left no metrics of step {run.num_train_steps} in {run.workdir}"
    return None


class Progress:
    """Counts of finished, failed and remaining runs, and an ETA from the mean duration
    of the runs completed so far (runs skipped as already finished take no time)."""

    def __init__(self, total: int, to_run: int, parallel: int, echo: Callable[[str], None]):
        self.total, self.remaining, self.parallel = total, to_run, parallel
        self.finished, self.failed = total - to_run, 0
        self.durations: list[float] = []
        self.echo = echo

    def done(self, run: Run, error: str | None, seconds: float) -> None:
        self.remaining -= 1
        self.durations.append(seconds)
        if error is None:
            self.finished += 1
        else:
            self.failed += 1
        mean = sum(self.durations) / len(self.durations)
        eta = mean * self.remaining / min(self.parallel, max(self.remaining, 1))
        what = "finished" if error is None else f"FAILED ({error})"
        self.echo(
            f"sweep: {run.name} {what} in {format_duration(seconds)} | "
            f"{self.finished} finished, {self.failed} failed, {self.remaining} remaining "
            f"of {self.total} | ETA {format_duration(eta)}"
        )


def first_seeds_first(runs: list[Run], seeds: list) -> list[Run]:
    """One run of every grid point before a second seed of any: the later seeds then
    find their programs in the compilation cache instead of compiling them alongside."""
    rank = {seed: i for i, seed in enumerate(seeds)}
    return sorted(runs, key=lambda run: (rank.get(run.point.get("seed"), 0), run.index))


def run_all(
    sweep: Sweep,
    runs: list[Run],
    parallel: int,
    evaluation: commands.Evaluation,
    echo: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> dict[str, str]:
    """Completes every run not complete yet; the error line of each run that failed,
    by name. A failing run does not stop the others."""
    evaluate = bool(evaluation)
    pending = [run for run in runs if rundir.final_metrics(run, evaluate) is None]
    progress = Progress(len(runs), len(pending), parallel, echo)
    echo(
        f"sweep: {len(runs)} runs in {sweep.root}: {len(runs) - len(pending)} already "
        f"finished, {len(pending)} to run, {parallel} at a time"
    )

    def timed(run: Run) -> tuple[str | None, float]:
        start = time.perf_counter()
        return complete(run, sweep, evaluation), time.perf_counter() - start

    errors = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as pool:
        order = first_seeds_first(pending, sweep.grid.get("seed", []))
        futures = {pool.submit(timed, run): run for run in order}
        try:
            for future in concurrent.futures.as_completed(futures):
                run = futures[future]
                error, seconds = future.result()
                if error is not None:
                    errors[run.name] = error
                progress.done(run, error, seconds)
        except KeyboardInterrupt:
            # Ctrl-C reached the runs under way too (one process group): start no others.
            pool.shutdown(cancel_futures=True)
            raise
    return errors
