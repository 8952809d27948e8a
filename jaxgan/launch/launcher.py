"""The sweep command's steps, free of flags (so tests and other tools can call them):
resolve the requested sweep, then run and tabulate it or write its cluster scripts."""

import pathlib
import sys

import ml_collections

from jaxgan.launch import commands, execute, plan, record, results, rundir
from jaxgan.launch import grid as grid_lib
from jaxgan.runtime.errors import UserError
from jaxgan.runtime.files import write_text


def echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def resolve(
    config: str | None, grid: list[str], overrides: list[str], root: pathlib.Path
) -> tuple[plan.Sweep, ml_collections.ConfigDict]:
    """The sweep of the arguments, or, with `config` and `grid` left out, the one `root`
    holds; and its base config. Every bad grid is refused here, before anything runs."""
    root = pathlib.Path(root).absolute()
    if config is None and not grid:
        stored = record.read(root)
        if stored is None:
            raise UserError(f"give --config and --grid ({root} holds no sweep to continue)")
        if overrides:
            raise UserError("--set needs --config and --grid (it changes the sweep)")
        base = plan.load_base_config(stored["config"])
        axes = grid_lib.grid_from_pairs(stored["grid"].items(), base)
        fixed = {f: grid_lib.check_value(f, v, base) for f, v in stored["overrides"].items()}
        return plan.Sweep(stored["config"], axes, fixed, root), base
    if config is None or not grid:
        raise UserError("give both --config and --grid, or neither to continue ROOT's sweep")
    spec = plan.absolute_spec(config)
    base = plan.load_base_config(spec)
    axes = grid_lib.parse_grid(grid, base)
    fixed = grid_lib.parse_overrides(overrides, base)
    grid_lib.check_disjoint(axes, fixed)
    return plan.Sweep(spec, axes, fixed, root), base


def available_evaluation(requested: commands.Evaluation) -> commands.Evaluation:
    """`requested`, or none when this jaxgan has no evaluation binary."""
    if requested and not commands.evaluator_available():
        echo(
            f"sweep: {commands.EVALUATE_MODULE} is not in this jaxgan: no evaluation, the "
            "table shows the final training losses"
        )
        return commands.NO_EVALUATION
    return requested


def print_commands(
    sweep: plan.Sweep, runs: list[plan.Run], evaluation: commands.Evaluation
) -> None:
    """Writes ROOT/sweep.slurm and ROOT/commands.sh, and prints a command per run."""
    evaluation = available_evaluation(evaluation)
    paths = commands.write_scripts(sweep, runs, evaluation, pathlib.Path.cwd())
    for run in runs:
        print(commands.shell_line(sweep, run, evaluation))
    echo(f"sweep: wrote {paths[0]} (sbatch it) and {paths[1]}")


def title(sweep: plan.Sweep) -> str:
    fixed = " ".join(f"{f}={grid_lib.format_value(v)}" for f, v in sweep.overrides.items())
    config = pathlib.Path(sweep.config).name
    return f"Sweep of `{config}` in `{sweep.root}`" + (f", with `{fixed}`" if fixed else "") + "."


def launch(
    sweep: plan.Sweep,
    runs: list[plan.Run],
    parallel: int,
    evaluation: commands.Evaluation,
    collect: bool,
) -> int:
    """Runs what is not finished (unless `collect`), then writes ROOT/results.csv and
    ROOT/results.md; the exit status: 1 if any run failed, else 0."""
    evaluation = available_evaluation(evaluation)
    failures = {} if collect else execute.run_all(sweep, runs, parallel, evaluation)
    metrics = {}
    for run in runs:
        found = rundir.final_metrics(run, bool(evaluation))
        if found is not None:
            metrics[run.name] = found
        elif run.name not in failures and (error := rundir.logged_error(run)):
            failures[run.name] = error
    table = results.build(runs, metrics, failures)
    markdown = results.to_markdown(table, title(sweep))
    write_text(sweep.root / "results.csv", results.to_csv(table))
    write_text(sweep.root / "results.md", markdown)
    print(markdown, end="")
    echo(f"sweep: wrote {sweep.root / 'results.md'} and {sweep.root / 'results.csv'}")
    return 1 if failures else 0
