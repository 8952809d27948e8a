"""Today's runs give the samples they gave when recorded (tests/golden/record.py): each
config trains 20 steps with `python -m jaxgan.main` and samples 64 images with
`python -m jaxgan.sample --seed=0` (2-D points through the same restore and latents).

Identical, or at most 1 grey level on a few pixels (1e-5 for points) where only float
rounding changed: a change to what a step computes, draws or restores fails here.
"""

import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent / "golden"))
import record  # noqa: E402

# The 3 quickest run by default; the rest with --runslow.
SLOW = {"sngan_resnet_conditional", "wgan_gp", "minibatch_discrimination"}
# Pixels allowed to differ by one grey level (of 64 images): float rounding only.
MAX_PIXELS_OFF_BY_ONE = 0.001


def check_same(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for name, want in expected.items():
        have = got[name]
        assert have.shape == want.shape and have.dtype == want.dtype
        if want.dtype == np.uint8:
            diff = np.abs(have.astype(int) - want.astype(int))
            assert diff.max() <= 1, f"{name}: pixels differ by up to {diff.max()} grey levels"
            assert np.mean(diff > 0) <= MAX_PIXELS_OFF_BY_ONE, f"{np.sum(diff > 0)} pixels differ"
        else:
            np.testing.assert_allclose(have, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else []) for n in record.RUNS]
)
def test_runs_sample_what_they_sampled_when_recorded(name, tmp_path):
    with np.load(record.HERE / f"{name}.npz") as arrays:
        expected = dict(arrays)
    check_same(record.samples(name, tmp_path), expected)


def test_check_same_fails_on_a_two_level_difference():
    images = np.zeros((4, 8, 8, 1), np.uint8)
    changed = images.copy()
    changed[0, 0, 0, 0] = 2
    with pytest.raises(AssertionError, match="2 grey levels"):
        check_same({"images": changed}, {"images": images})
    with pytest.raises(AssertionError):
        check_same(
            {"points": np.full((2, 2), 1e-4, np.float32)}, {"points": np.zeros((2, 2), np.float32)}
        )


def test_the_committed_checkpoint_of_jaxgan_0_2_restores_and_samples_its_images(tmp_path):
    """tests/golden/workdir_0.2: a tiny DCGAN (widths 8, latent 16, g_ema_decay 0.9)
    trained 2 steps by jaxgan 0.2.0, and its 16 samples of seed 0. A change to the state's
    layout or to sampling fails here: bump the version and refuse old workdirs instead."""
    import shutil
    import subprocess

    workdir = tmp_path / "run"
    shutil.copytree(record.HERE / "workdir_0.2", workdir)
    out = tmp_path / "samples.npz"
    command = [sys.executable, "-m", "jaxgan.sample", f"--workdir={workdir}", "--num=16"]
    subprocess.run(command + [f"--out={out}"], check=True, capture_output=True)
    with np.load(out) as got, np.load(record.HERE / "workdir_0.2_samples.npz") as expected:
        check_same(dict(got), dict(expected))
