"""The ablation launcher: a real 2x2 grid of tiny runs with 2 seeds end to end, skip and
resume, a failing run, cluster scripts, evaluation (with a stand-in binary), and every
bad grid refused before anything runs."""

import csv
import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys

import numpy as np
import pytest

from jaxgan.launch import commands, events, grid, launcher, plan, record, results, rundir
from jaxgan.runtime.errors import UserError
from jaxgan.runtime.summary import SummaryWriter
from tests.conftest import tiny

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = "configs/dcgan.py"  # as typed in ROOT, where the command-line tests run
CONFIG_PATH = str(ROOT / CONFIG)
GRID = "loss=non_saturating,least_squares d_norm=batch_norm,none seed=0,1"
TINY = (
    "g_width=8 d_width=8 latent_dim=16 batch_size=16 num_train_steps=2 log_every_steps=1 "
    "checkpoint_every_steps=2 num_samples=16"
)
LOSSES = ("d_loss", "g_loss", "d_real", "d_fake")


def sweep_cli(*args, timeout=600):
    # --eval_num_samples=0: the table is of the final losses whether or not this jaxgan
    # has the evaluation binary, so the tests check the same thing before and after.
    return subprocess.run(
        [sys.executable, "-m", "jaxgan.launch.sweep", "--eval_num_samples=0", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def read_csv(root):
    with open(root / "results.csv") as f:
        return list(csv.DictReader(f))


def run_dirs(root):
    return sorted(p for p in root.iterdir() if p.is_dir() and "=" in p.name)


@pytest.fixture(scope="module")
def sweep_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep") / "losses"
    result = sweep_cli(
        f"--config={CONFIG}", f"--grid={GRID}", f"--set={TINY}", f"--root={root}", "--parallel=2"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return root, result


# --- End to end ---------------------------------------------------------------------


def test_every_grid_point_trains_in_its_own_workdir(sweep_root):
    root, result = sweep_root
    names = [p.name for p in run_dirs(root)]
    assert len(names) == 8
    assert "loss=least_squares,d_norm=none,seed=1" in names
    for workdir in run_dirs(root):
        config = json.loads((workdir / "config.json").read_text())["config"]
        for item in workdir.name.split(","):
            field, value = item.split("=")
            assert grid.format_value(config[field]) == value
        assert config["g_width"] == 8 and config["num_train_steps"] == 2
        assert (workdir / "checkpoints" / "2").is_dir()
        assert "step 2/2 (100.0%)" in (workdir / "train.log").read_text()
    stored = json.loads((root / "sweep.json").read_text())
    assert stored["config"] == str(ROOT / CONFIG)
    assert stored["grid"] == {
        "loss": ["non_saturating", "least_squares"],
        "d_norm": ["batch_norm", "none"],
        "seed": [0, 1],
    }
    assert stored["overrides"]["num_train_steps"] == 2
    assert "8 runs" in result.stderr and "0 already finished, 8 to run" in result.stderr
    assert "8 finished, 0 failed, 0 remaining of 8 | ETA" in result.stderr


def logged_losses(workdir):
    """The final step's losses as the trainer printed them (4 decimals): a source
    independent of the event file reader."""
    last = [line for line in (workdir / "train.log").read_text().splitlines() if "step 2/2" in line]
    return {name: float(re.search(rf"{name} (\S+)", last[-1])[1]) for name in LOSSES}


def test_table_is_the_mean_and_std_of_each_runs_own_files(sweep_root):
    root, _ = sweep_root
    rows = read_csv(root)
    assert [(r["loss"], r["d_norm"]) for r in rows] == [
        ("non_saturating", "batch_norm"),
        ("non_saturating", "none"),
        ("least_squares", "batch_norm"),
        ("least_squares", "none"),
    ]
    for row in rows:
        assert (row["seeds_finished"], row["seeds_failed"], row["runs"]) == ("2", "0", "2")
        assert row["best"] == "0" and row["errors"] == ""
        workdirs = [root / f"loss={row['loss']},d_norm={row['d_norm']},seed={s}" for s in (0, 1)]
        for name in LOSSES:
            scalars = [events.last_scalars(w / "tensorboard")[name] for w in workdirs]
            assert [step for step, _ in scalars] == [2, 2]
            values = [value for _, value in scalars]
            printed = [logged_losses(w)[name] for w in workdirs]
            np.testing.assert_allclose(values, printed, atol=6e-5)
            np.testing.assert_allclose(float(row[f"{name}_mean"]), np.mean(values), rtol=1e-12)
            np.testing.assert_allclose(
                float(row[f"{name}_std"]), np.std(values, ddof=1), rtol=1e-12
            )
    markdown = (root / "results.md").read_text()
    assert "| loss | d_norm | seeds | d_loss | g_loss | d_real | d_fake |" in markdown
    assert markdown.count("| 2/2 |") == 4
    assert "No row is marked best" in markdown and "**" not in markdown
    # The table printed is the table written.
    assert markdown in sweep_root[1].stdout


def test_a_second_invocation_runs_nothing(sweep_root):
    root, _ = sweep_root
    mtimes = {p: (p / "train.log").stat().st_mtime_ns for p in run_dirs(root)}
    table = (root / "results.csv").read_text()
    again = sweep_cli(
        f"--config={CONFIG}", f"--grid={GRID}", f"--set={TINY}", f"--root={root}", "--parallel=2"
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert "8 already finished, 0 to run" in again.stderr
    assert {p: (p / "train.log").stat().st_mtime_ns for p in run_dirs(root)} == mtimes
    assert (root / "results.csv").read_text() == table


@pytest.mark.slow  # one more tiny run (10-20 s on the shared 2 cores)
def test_an_unfinished_run_is_run_again_with_the_sweep_read_from_root(sweep_root):
    root, _ = sweep_root
    redo = root / "loss=least_squares,d_norm=none,seed=0"
    shutil.rmtree(redo / "checkpoints" / "2")
    others = {p: (p / "train.log").stat().st_mtime_ns for p in run_dirs(root) if p != redo}
    # --config, --grid and --set left out: the sweep is the one sweep.json records.
    again = sweep_cli(f"--root={root}", "--parallel=2")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "7 already finished, 1 to run" in again.stderr
    assert (redo / "checkpoints" / "2").is_dir()
    assert (redo / "train.log").read_text().count(rundir.ATTEMPT_MARKER) == 2
    assert {p: (p / "train.log").stat().st_mtime_ns for p in others} == others


# --- Failures -----------------------------------------------------------------------


def test_a_failing_run_is_recorded_with_its_error_and_the_others_finish(tmp_path):
    root = tmp_path / "sizes"
    # image_size 48 passes the launcher's type check (an int) and fails in training.
    result = sweep_cli(
        f"--config={CONFIG}",
        "--grid=image_size=48,28",
        f"--set={TINY} seed=0 d_norm=batch_norm",
        f"--root={root}",
        "--parallel=2",
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert "1 finished, 1 failed, 0 remaining of 2" in result.stderr
    failed, finished = read_csv(root)
    assert (failed["image_size"], failed["seeds_finished"], failed["seeds_failed"]) == (
        "48",
        "0",
        "1",
    )
    assert failed["errors"].startswith("image_size=48: jaxgan: error:")
    assert "image_size" in failed["errors"][len("image_size=48") :]
    assert failed["d_loss_mean"] == ""
    assert finished["seeds_finished"] == "1" and finished["d_loss_std"] == ""
    markdown = (root / "results.md").read_text()
    assert "| 48 | 0/1 (1 failed) | — | — | — | — |" in markdown
    assert re.search(r"\| 28 \| 1/1 \| \S+ ±— \|", markdown)
    assert "Failed runs:\n\n- `image_size=48`: jaxgan: error:" in markdown
    # The table can be written again from the files alone.
    collected = sweep_cli(f"--root={root}", "--collect")
    assert collected.returncode == 1
    assert (root / "results.md").read_text() == markdown


def test_error_line_is_from_the_last_attempt(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(
        f"{rundir.ATTEMPT_MARKER} 1\njaxgan: error: an old problem\n"
        f"{rundir.ATTEMPT_MARKER} 2\nstep 1/4\nTraceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n    f(a: b)\n    ^^^^\n'
        "ZeroDivisionError: division by zero\nsome later line\n"
    )
    assert rundir.error_line(log) == "ZeroDivisionError: division by zero"
    log.write_text(log.read_text() + f"{rundir.ATTEMPT_MARKER} 3\njaxgan: error: now this\n")
    assert rundir.error_line(log) == "jaxgan: error: now this"
    log.write_text(f"{rundir.ATTEMPT_MARKER} 4\nstep 4/4\n")
    assert rundir.error_line(log) is None
    assert rundir.error_line(tmp_path / "absent.log") is None


# --- Cluster scripts ----------------------------------------------------------------


def test_print_writes_a_slurm_array_and_a_command_list(tmp_path):
    root = tmp_path / "cluster"
    result = sweep_cli(
        f"--config={CONFIG}", f"--grid={GRID}", f"--set={TINY}", f"--root={root}", "--print"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert len(lines) == 8 and not run_dirs(root)  # printed, nothing run
    script = (root / "sweep.slurm").read_text()
    assert "#SBATCH --array=0-7" in script
    listed = (root / "commands.sh").read_text().splitlines()
    assert [line for line in listed if "jaxgan.main" in line] == lines
    assert subprocess.run(["bash", "-n", str(root / "commands.sh")]).returncode == 0

    # Task 5 of the array runs run 5's command, exactly: a stand-in `python` records it.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS_FILE"\n')
    (bin_dir / "python").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "SLURM_ARRAY_TASK_ID": "5",
        "ARGS_FILE": str(tmp_path / "args"),
    }
    assert subprocess.run(["bash", str(root / "sweep.slurm")], env=env).returncode == 0
    sweep, base = launcher.resolve(CONFIG_PATH, [GRID], [TINY], root)
    run = plan.plan_runs(sweep, base)[5]
    assert run.name == "loss=least_squares,d_norm=batch_norm,seed=1"
    argv = (tmp_path / "args").read_text().splitlines()
    assert argv == commands.train_argv(sweep, run, "python")[1:]
    assert rundir.ATTEMPT_MARKER in (run.workdir / "train.log").read_text()
    env["SLURM_ARRAY_TASK_ID"] = "8"
    assert subprocess.run(["bash", str(root / "sweep.slurm")], env=env).returncode == 2


# --- Evaluation, with a stand-in for `python -m jaxgan.evaluate` ----------------------

FAKE_EVALUATE = """
import json, pathlib, sys
flags = dict(arg[2:].split("=", 1) for arg in sys.argv[1:])
workdir = pathlib.Path(flags["workdir"])
if "seed=2" in workdir.name and "loss=hinge" in workdir.name:
    print("jaxgan: error: no samples today", file=sys.stderr)
    sys.exit(2)
seed = int(workdir.name.split("seed=")[1])
fid = {"non_saturating": 10.0, "hinge": 5.0}[workdir.name.split(",")[0][5:]] + seed
step = max(int(p.name) for p in (workdir / "checkpoints").iterdir())
metrics = dict(step=step, num_samples=int(flags["num_samples"]), fid=fid, kid=0.01,
               kid_std=0.5, precision=0.5, recall=0.5, density=1.0, coverage=0.5,
               protocol="stand-in " + " ".join(sys.argv[1:]))
metrics["is"] = 2.0
(workdir / "eval" / f"metrics_{step}.json").write_text(json.dumps(metrics))
"""


def test_evaluated_runs_are_tabulated_by_fid_and_the_best_is_bold(tmp_path, monkeypatch, capsys):
    module_dir = tmp_path / "modules"
    module_dir.mkdir()
    (module_dir / "stand_in_evaluate.py").write_text(FAKE_EVALUATE)
    monkeypatch.syspath_prepend(str(module_dir))
    monkeypatch.setenv("PYTHONPATH", f"{module_dir}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    monkeypatch.setattr(commands, "EVALUATE_MODULE", "stand_in_evaluate")
    monkeypatch.chdir(ROOT)
    base = tiny()
    axes = grid.parse_grid(["loss=non_saturating,hinge seed=0,1,2"], base)
    sweep = plan.Sweep(CONFIG_PATH, axes, {"num_train_steps": 2}, tmp_path / "s")
    runs = plan.plan_runs(sweep, base)
    for run in runs:  # trained already: only the evaluation is left to do
        (run.workdir / "checkpoints" / "2").mkdir(parents=True)
        (run.workdir / "eval").mkdir()

    evaluation = commands.Evaluation(num_samples=7, num_real=5)
    assert launcher.launch(sweep, runs, parallel=2, evaluation=evaluation, collect=False) == 1
    rows = read_csv(sweep.root)
    assert [r["loss"] for r in rows] == ["non_saturating", "hinge"]
    plain, hinge = rows
    assert float(plain["fid_mean"]) == 11.0 and float(plain["fid_std"]) == 1.0
    assert float(hinge["fid_mean"]) == 5.5
    np.testing.assert_allclose(float(hinge["fid_std"]), statistics.stdev([5.0, 6.0]))
    assert (hinge["best"], plain["best"]) == ("1", "0")
    assert hinge["errors"] == "loss=hinge,seed=2: jaxgan: error: no samples today"
    assert "kid_std_mean" not in plain and "is_mean" in plain
    markdown = (sweep.root / "results.md").read_text()
    header = "| loss | seeds | fid | kid | is | precision | recall | density | coverage |"
    assert header in markdown
    assert "| **hinge** | **2/3 (1 failed)** | **5.50 ± 0.71** |" in markdown
    assert "| non_saturating | 3/3 | 11.0 ± 1.0 |" in markdown
    assert "Bold: lowest mean FID." in markdown
    record_of = json.loads(rundir.eval_metrics_path(runs[0]).read_text())
    assert record_of["num_samples"] == 7 and "--num_real=5" in record_of["protocol"]

    # Again: only the failed evaluation is attempted.
    capsys.readouterr()
    logs = {run.name: (run.workdir / "eval.log").read_text() for run in runs}
    assert launcher.launch(sweep, runs, parallel=1, evaluation=evaluation, collect=False) == 1
    assert "5 already finished, 1 to run" in capsys.readouterr().err
    changed = [run.name for run in runs if (run.workdir / "eval.log").read_text() != logs[run.name]]
    assert changed == ["loss=hinge,seed=2"]


# --- Event files --------------------------------------------------------------------


def test_last_scalars_across_resumed_event_files(tmp_path):
    first = SummaryWriter(str(tmp_path), filename_suffix=".a")
    for step, value in [(1, 0.5), (2, 0.25), (3, 0.125)]:
        first.add_scalar("d_loss", value, step)
    first.add_scalar("g_loss", 2.0, 3)
    first.add_image("samples", np.zeros((4, 4, 1), np.uint8), 3, dataformats="HWC")
    first.close()
    # A resumed run logs step 3 again in a file of a later name; the later value wins.
    second = SummaryWriter(str(tmp_path), filename_suffix=".b")
    second.add_scalar("d_loss", 0.75, 3)
    second.close()
    (path,) = tmp_path.glob("*.b")
    with open(path, "ab") as f:
        f.write(b"\x10\x00\x00")  # a torn record, as from a run killed mid-write
    assert events.last_scalars(tmp_path) == {"d_loss": (3, 0.75), "g_loss": (3, 2.0)}
    assert events.last_scalars(tmp_path / "absent") == {}


# --- Grids --------------------------------------------------------------------------


def test_values_take_the_type_of_their_field(tmp_path):
    base = tiny()
    axes = grid.parse_grid(
        ["g_learning_rate=1e-4,2e-4 g_spectral_norm=true,False", "dataset='folder:/a b',mnist"],
        base,
    )
    assert axes == {
        "g_learning_rate": [1e-4, 2e-4],
        "g_spectral_norm": [True, False],
        "dataset": ["folder:/a b", "mnist"],
    }
    assert plan.run_name({"dataset": "folder:/a b", "g_learning_rate": 1e-4}) == (
        "dataset=folder__a_b,g_learning_rate=0.0001"
    )
    yaml_file = tmp_path / "grid.yaml"
    yaml_file.write_text("d_learning_rate: [1e-4, 0.001, 1]\nseed: 3\nloss: [hinge]\n")
    json_file = tmp_path / "grid.json"
    json_file.write_text('{"batch_size": [8, 16]}')
    axes = grid.parse_grid([str(yaml_file), str(json_file)], base)
    assert axes == {
        "d_learning_rate": [1e-4, 1e-3, 1.0],
        "seed": [3],
        "loss": ["hinge"],
        "batch_size": [8, 16],
    }
    assert type(axes["d_learning_rate"][2]) is float
    assert grid.parse_overrides(["num_train_steps=3 dataset=folder:/x,y"], base) == {
        "num_train_steps": 3,
        "dataset": "folder:/x,y",
    }


@pytest.mark.parametrize(
    "grid_args,set_args,expected",
    [
        (["nope=1,2"], [], "unknown config field 'nope'"),
        (["seed=0,a"], [], "config.seed must be an integer, got 'a'"),
        (["seed=1.5"], [], "config.seed must be an integer"),
        (["g_learning_rate=fast"], [], "config.g_learning_rate must be a number"),
        (["g_spectral_norm=yes"], [], "config.g_spectral_norm must be true or false"),
        (["seed="], [], "the grid gives no values for 'seed'"),
        (["seed=0,,1"], [], "empty value in 'seed=0,,1'"),
        (["seed=0 seed=1"], [], "'seed' appears twice"),
        (["seed=0", "loss=hinge seed=1"], [], "'seed' appears twice"),
        (["seed=0,1,0"], [], "the grid repeats seed=0"),
        (["seed"], [], "'seed' is not FIELD=VALUE"),
        ([""], [], "the grid is empty"),
        (["seed=0,1"], ["seed=2"], "seed both varied by --grid and fixed by --set"),
        (["seed=0,1"], ["batch_size=x"], "config.batch_size must be an integer"),
        (["seed=0,1"], ["nope=1"], "unknown config field 'nope'"),
        (["dataset=a/b,a:b"], [], "both get the run directory 'dataset=a_b'"),
    ],
)
def test_bad_grid_is_refused_before_anything_runs(tmp_path, grid_args, set_args, expected):
    with pytest.raises(UserError, match=re.escape(expected)):
        sweep, base = launcher.resolve(CONFIG_PATH, grid_args, set_args, tmp_path / "root")
        plan.plan_runs(sweep, base)
    assert not (tmp_path / "root").exists()


@pytest.mark.parametrize(
    "name,text,expected",
    [
        ("g.yaml", "nope: [1]", "unknown config field 'nope'"),
        ("g.yaml", "seed: []", "the grid gives no values for 'seed'"),
        ("g.yaml", "seed: [0]\nseed: [1]", "'seed' appears twice"),
        ("g.yaml", "seed: [0.5]", "config.seed must be an integer, got 0.5"),
        ("g.yaml", "seed: [true]", "config.seed must be an integer, got True"),
        ("g.yaml", "loss: [1]", "config.loss must be a string"),
        ("g.yaml", "- seed", "must hold a mapping"),
        ("g.yaml", "seed: [0", "is not valid YAML"),
        ("g.json", '{"seed": [0], "seed": [1]}', "'seed' appears twice"),
        ("g.json", "[1]", "must hold a mapping"),
        ("g.json", "{seed", "is not valid JSON"),
    ],
)
def test_bad_grid_file_is_refused(tmp_path, name, text, expected):
    (tmp_path / name).write_text(text)
    with pytest.raises(UserError, match=re.escape(expected)):
        grid.parse_grid([str(tmp_path / name)], tiny())


def test_another_grid_in_the_same_root_is_refused_and_more_values_extend_it(tmp_path):
    root = tmp_path / "root"
    sweep, base = launcher.resolve(CONFIG_PATH, ["seed=0,1"], ["num_train_steps=2"], root)
    record.check_and_write(sweep, plan.plan_runs(sweep, base))
    # The same sweep, and the same with a run length changed, are welcome.
    for overrides in (["num_train_steps=2"], ["num_train_steps=5"]):
        again, _ = launcher.resolve(CONFIG_PATH, ["seed=0,1"], overrides, root)
        record.check_and_write(again, plan.plan_runs(again, base))
    # More seeds extend the sweep: its finished runs stay runs of it.
    more, _ = launcher.resolve(CONFIG_PATH, ["seed=0,1,2"], ["num_train_steps=5"], root)
    record.check_and_write(more, plan.plan_runs(more, base))
    stored = json.loads((root / "sweep.json").read_text())
    assert stored["grid"] == {"seed": [0, 1, 2]} and stored["runs"][-1] == "seed=2"
    for grid_args, overrides, expected in [
        (["seed=0,2"], ["num_train_steps=5"], "grid: {'seed': [0, 1, 2]} here"),
        (["seed=0,1,2 loss=hinge"], ["num_train_steps=5"], "grid: {'seed': [0, 1, 2]} here"),
        (["seed=0,1,2"], ["num_train_steps=5 loss=hinge"], "--set loss: not set here, hinge"),
    ]:
        other, _ = launcher.resolve(CONFIG_PATH, grid_args, overrides, root)
        with pytest.raises(UserError, match=re.escape(expected)):
            record.check_and_write(other, plan.plan_runs(other, base))
    assert json.loads((root / "sweep.json").read_text())["overrides"] == {"num_train_steps": 5}


def test_the_command_line_reports_a_bad_grid_in_one_line(tmp_path):
    result = sweep_cli(f"--config={CONFIG}", "--grid=seed=0,a", f"--root={tmp_path / 'r'}")
    assert result.returncode == 2
    assert result.stderr.strip() == "jaxgan: error: config.seed must be an integer, got 'a'"
    assert not (tmp_path / "r").exists()
    result = sweep_cli(f"--config={CONFIG}", "--config.seed=1", f"--root={tmp_path / 'r'}")
    assert result.returncode == 2 and "--set=seed=VALUE" in result.stderr


def test_format_mean_std_shows_two_digits_of_the_std():
    assert results.format_mean_std((23.4567, 0.8123)) == "23.46 ± 0.81"
    assert results.format_mean_std((1.38621, 0.000512)) == "1.38621 ± 0.00051"
    assert results.format_mean_std((1234.5, 56.0)) == "1234 ± 56"
    assert results.format_mean_std((0.693147, None)) == "0.6931 ±—"
    assert results.format_mean_std(None) == "—"


def test_shell_line_evaluates_with_the_requested_counts(tmp_path):
    base = tiny()
    sweep = plan.Sweep(CONFIG_PATH, grid.parse_grid(["seed=0"], base), {}, tmp_path / "s")
    (run,) = plan.plan_runs(sweep, base)
    line = commands.shell_line(sweep, run, commands.Evaluation(num_samples=500, num_real=300))
    assert "-m jaxgan.evaluate" in line and "--num_samples=500 --num_real=300" in line
    whole_split = commands.shell_line(sweep, run, commands.Evaluation(num_samples=500))
    assert "--num_samples=500" in whole_split and "--num_real" not in whole_split
    assert "jaxgan.evaluate" not in commands.shell_line(sweep, run, commands.NO_EVALUATION)


def test_fid_over_training_aligns_sweeps_by_the_real_images_shown(tmp_path):
    from jaxgan.launch import over_training

    def score(sweep, seed, step, fid, batch_size, d_steps):
        run = tmp_path / sweep / f"seed={seed}"
        (run / "eval").mkdir(parents=True, exist_ok=True)
        config = {"batch_size": batch_size, "d_steps": d_steps}
        (run / "config.json").write_text(json.dumps({"config": config}))
        record = {"step": step, "num_samples": 5000, "fid": fid}
        (run / "eval" / f"metrics_{step}.json").write_text(json.dumps(record))

    # 64 real images a step: steps 100 and 200 are 6,400 and 12,800 images.
    score("grow", 0, 100, 50.0, 64, 1)
    score("grow", 0, 200, 30.0, 64, 1)
    score("grow", 1, 200, 34.0, 64, 1)
    # 64 x 5 = 320 a step: step 20 is 6,400 images, step 40 is 12,800.
    score("resnet", 0, 20, 80.0, 64, 5)
    score("resnet", 0, 40, 60.0, 64, 5)
    text = over_training.table([tmp_path / "grow", tmp_path / "resnet"])
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0] == "| real images shown | grow | resnet |"
    assert rows[1] == "| 6,400 | 50.0 | 80.0 |"
    # Seeds 30 and 34: mean 32, sample std 2.83.
    assert rows[2] == "| 12,800 | 32.0 ± 2.8 (2) | 60.0 |"
    assert len(rows) == 3
    score("late", 0, 300, 20.0, 64, 1)
    # A sweep's column is named by its config when its sweep record says it.
    sweep_record = {"config": "configs/progan.py:fashion", "grid": {"seed": [0]}}
    (tmp_path / "late" / "sweep.json").write_text(json.dumps(sweep_record))
    text = over_training.table([tmp_path / "grow", tmp_path / "late"])
    assert "| real images shown | grow | progan.py:fashion |" in text
    assert "| 19,200 | — | 20.0 |" in text and "| 6,400 | 50.0 | — |" in text
    with pytest.raises(UserError, match="run its sweep first"):
        over_training.table([tmp_path / "missing"])
    (tmp_path / "empty" / "seed=0").mkdir(parents=True)
    with pytest.raises(UserError, match="no scored checkpoint"):
        over_training.table([tmp_path / "empty"])
