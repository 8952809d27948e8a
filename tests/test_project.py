"""GAN inversion (`python -m jaxgan.project`): a generator's own image gives back its
latent; the command's files; one clear error per bad target, nothing written."""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from jaxgan.runtime.errors import UserError
from jaxgan.sampling import projection, projection_files
from tests.test_sample import ROOT


class TanhGenerator:
    """G(z) = tanh(z A) as 8x8 grey images: z (16-d) is identifiable from its 64 pixels."""

    latent_dim = 16

    def __init__(self, seed=0):
        self.matrix = jax.random.normal(jax.random.key(seed), (16, 64)) / 4.0

    def __call__(self, z, labels=None):
        return jnp.tanh(z @ self.matrix).reshape(-1, 8, 8, 1)


def test_the_latent_of_a_generators_own_image_is_recovered():
    G = TanhGenerator()
    true_z = jax.random.normal(jax.random.key(7), (1, 16))
    target = G(true_z)
    random_error = float(jnp.mean((G(jax.random.normal(jax.random.key(8), (1, 16))) - target) ** 2))
    exact = projection.project(
        G, target, jax.random.key(0), projection.Settings(steps=300, latent_weight=0.0)
    )
    assert exact.final["pixel"] < 1e-5 * random_error, (exact.final, random_error)
    np.testing.assert_allclose(exact.z, true_z, atol=0.02)
    # The loss went down from the best starting candidate, and was recorded every step.
    assert (
        len(exact.losses["pixel"]) == 300 and exact.losses["pixel"][0] > 100 * exact.final["pixel"]
    )
    # With the default pull towards the latent sphere, still far below a random latent.
    default = projection.project(G, target, jax.random.key(0), projection.Settings(steps=300))
    assert default.final["pixel"] < 0.01 * random_error
    assert list(default.snapshot_steps) == [0, 43, 86, 129, 171, 214, 257, 300]
    np.testing.assert_allclose(default.snapshots[-1], default.image[0])


def test_the_starting_latent_is_the_best_of_the_candidates():
    G = TanhGenerator()
    target = G(jax.random.normal(jax.random.key(1), (1, 16)))
    start = projection.starting_latent(G, target, None, jax.random.key(3), 16, candidates=8)
    from jaxgan.sampling import latents

    candidates = latents.gaussian(jax.random.key(3), jnp.arange(8), 16)
    errors = [float(jnp.mean((G(c[None]) - target) ** 2)) for c in candidates]
    np.testing.assert_array_equal(start[0], candidates[int(np.argmin(errors))])


def save_target(path, pixels):
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture
def own_image(tiny_run, tmp_path):
    """Image 3 of seed 0 of the tiny run, as a PNG."""
    import jaxgan

    G = jaxgan.load_generator(tiny_run)
    return save_target(
        tmp_path / "target.png", G.to_uint8(G.sample(jax.random.key(0), 4))[3, ..., 0]
    )


def test_the_command_writes_its_four_files(tiny_run, own_image, tmp_path):
    settings = projection.Settings(steps=20, feature_weight=0.0)
    out = projection_files.run(tiny_run, own_image, tmp_path / "proj", settings=settings, seed=1)
    assert sorted(p.name for p in out.iterdir()) == [
        "latent.npz",
        "progress.png",
        "projected.png",
        "target.png",
    ]
    record = np.load(out / "latent.npz")
    assert record["z"].shape == (1, 16) and record["loss_pixel"].shape == (20,)
    settings_record = json.loads(str(record["settings"]))
    assert settings_record["checkpoint_step"] == 2 and settings_record["steps"] == 20
    target = np.asarray(Image.open(out / "target.png"))
    np.testing.assert_array_equal(target, np.asarray(Image.open(own_image)))
    strip = np.asarray(Image.open(out / "progress.png"))
    assert strip.shape == (32, 9 * 30 + 2)  # the target and 8 snapshots of 28 px, 2 px gaps
    np.testing.assert_array_equal(strip[2:30, 2:30], target)
    np.testing.assert_array_equal(
        strip[2:30, -30:-2], np.asarray(Image.open(out / "projected.png"))
    )


@pytest.mark.parametrize(
    "pixels,expected",
    [
        (np.zeros((32, 32), np.uint8), "is 32x32 with 1 channel.* makes 28x28 images with 1"),
        (np.zeros((28, 28, 3), np.uint8), "is 28x28 with 3 channel.* makes 28x28 images with 1"),
    ],
)
def test_a_target_of_another_shape_is_refused_unless_resized(tiny_run, tmp_path, pixels, expected):
    target = save_target(tmp_path / "t.png", pixels)
    settings = projection.Settings(steps=2, feature_weight=0.0)
    with pytest.raises(UserError, match=expected + ": pass --resize"):
        projection_files.run(tiny_run, target, tmp_path / "out", settings=settings)
    assert not (tmp_path / "out").exists()
    out = projection_files.run(tiny_run, target, tmp_path / "out", settings=settings, resize=True)
    assert np.asarray(Image.open(out / "target.png")).shape == (28, 28)


def test_bad_inputs_write_nothing(tiny_run, own_image, tmp_path):
    settings = projection.Settings(steps=2, feature_weight=0.0)
    cases = [
        (dict(target=tmp_path / "none.png"), "does not exist"),
        (dict(label=3), "--label is for conditional runs"),
        (dict(settings=projection.Settings(steps=0)), "--steps must be a positive integer"),
        (
            dict(settings=projection.Settings(learning_rate=-1.0)),
            "--learning_rate must be positive",
        ),
    ]
    (tmp_path / "text.png").write_text("not an image")
    cases.append((dict(target=tmp_path / "text.png"), "is not an image Pillow can read"))
    for options, expected in cases:
        arguments = {"target": own_image, "settings": settings, **options}
        target = arguments.pop("target")
        with pytest.raises(UserError, match=expected):
            projection_files.run(tiny_run, target, tmp_path / "out", **arguments)
        assert not (tmp_path / "out").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "projected.png").write_bytes(b"my file")
    with pytest.raises(UserError, match="exists and is not empty.*--overwrite"):
        projection_files.run(tiny_run, own_image, mine, settings=settings)
    assert (mine / "projected.png").read_bytes() == b"my file"


def test_the_cli_prints_one_line_per_outcome(tiny_run, own_image, tmp_path):
    def run_cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "jaxgan.project", f"--workdir={tiny_run}", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            env=dict(os.environ),
        )

    bad = save_target(tmp_path / "big.png", np.zeros((40, 40), np.uint8))
    result = run_cli(f"--target={bad}", f"--out={tmp_path}/o", "--feature_weight=0")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("jaxgan: error: --target=")
    result = run_cli(
        f"--target={own_image}", f"--out={tmp_path}/o", "--steps=5", "--feature_weight=0"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1].startswith("projected: pixel MSE ")


@pytest.mark.slow
def test_the_feature_loss_goes_through_the_inception_network():
    """The Inception features are differentiable (oneDNN convolutions included): the
    feature distance falls while matching G's own image. About 2 minutes on 2 CPU cores."""
    from jaxgan.metrics import inception_weights

    features = projection.inception_features(jax.device_put(inception_weights.load_params()))
    G = TanhGenerator()
    target = G(jax.random.normal(jax.random.key(7), (1, 16)))
    settings = projection.Settings(steps=100, latent_weight=0.0)
    result = projection.project(G, target, jax.random.key(0), settings, features)
    assert result.losses["feature"][0] > 0
    assert result.final["feature"] < 0.5 * result.losses["feature"][0], result.final
