"""`python -m jaxgan.sample`: outputs that decode, determinism per seed, latents, and
one clear error per bad input with the user's files left alone."""

import os
import pathlib
import subprocess
import sys
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from jaxgan import sample
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import latents
from jaxgan.sampling import restore as generate
from jaxgan.training.state import NetState
from tests.conftest import tiny

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def workdir(tiny_run):
    return tiny_run


def read_pngs(directory):
    return np.stack([np.asarray(Image.open(p)) for p in sorted(directory.glob("*.png"))])


def test_folder_and_npz_outputs_decode_and_match(workdir, tmp_path):
    folder = sample.run(workdir, tmp_path / "pngs", num=5, seed=3, batch_size=4)
    assert sorted(p.name for p in folder.iterdir()) == [f"00000{i}.png" for i in range(5)]
    pngs = read_pngs(folder)
    assert pngs.shape == (5, 28, 28) and pngs.dtype == np.uint8
    assert len({image.tobytes() for image in pngs}) == 5  # five different latents
    arrays = np.load(sample.run(workdir, tmp_path / "s.npz", num=5, seed=3, batch_size=4))
    assert list(arrays) == ["images"] and arrays["images"].dtype == np.uint8
    np.testing.assert_array_equal(arrays["images"][..., 0], pngs)


def test_same_seed_same_images_other_seed_other_images(workdir, tmp_path):
    def images(name, **options):
        return np.load(sample.run(workdir, tmp_path / name, num=4, batch_size=4, **options))[
            "images"
        ]

    first = images("a.npz", seed=1)
    np.testing.assert_array_equal(images("b.npz", seed=1), first)
    assert not np.array_equal(images("c.npz", seed=2), first)
    assert not np.array_equal(images("d.npz", seed=1, truncation=0.5), first)
    assert not np.array_equal(images("e.npz", seed=1, step=1), first)
    # Image i does not depend on how many are drawn (XLA may round another batch shape
    # differently by one grey level).
    fewer = images("f.npz", seed=1)[:2]
    first_two = np.load(sample.run(workdir, tmp_path / "g.npz", num=2, seed=1))["images"]
    assert np.abs(first_two.astype(int) - fewer).max() <= 1


def test_grid_and_interpolation_strip(workdir, tmp_path):
    grid = np.asarray(Image.open(sample.run(workdir, tmp_path / "g.png", num=4, grid=True)))
    assert grid.shape == (2 * 30 + 2, 2 * 30 + 2)  # 2x2 of 28 px with 2 px gaps
    strip_path = sample.run(workdir, tmp_path / "s.png", num=5, seed=7, interpolate=True)
    strip = np.asarray(Image.open(strip_path))
    assert strip.shape == (32, 5 * 30 + 2)
    frames = np.load(sample.run(workdir, tmp_path / "f.npz", num=5, seed=7, interpolate=True))
    frames = frames["images"][..., 0]
    np.testing.assert_array_equal(strip[2:30, 2:30], frames[0])
    # The path starts and ends at the seed's latents 0 and 1.
    ends = np.load(sample.run(workdir, tmp_path / "e.npz", num=2, seed=7))["images"][..., 0]
    assert np.abs(frames[[0, -1]].astype(int) - ends).max() <= 1
    assert len({frame.tobytes() for frame in frames}) == 5


def test_slerp_keeps_the_norm_and_truncation_bounds_the_latents():
    z0, z1 = latents.gaussian(jax.random.key(0), jnp.arange(2), 512)
    path = latents.slerp(z0, z1, jnp.linspace(0, 1, 9))
    np.testing.assert_allclose(path[0], z0, atol=1e-5)
    np.testing.assert_allclose(path[-1], z1, atol=1e-5)
    norms = jnp.linalg.norm(path, axis=1)
    # |z0| and |z1| are both close to sqrt(512); a straight line's midpoint is ~ 1/sqrt(2).
    assert float(norms.min()) > 0.95 * min(jnp.linalg.norm(z0), jnp.linalg.norm(z1))
    np.testing.assert_allclose(latents.slerp(z0, z0, jnp.array([0.5])), z0[None], atol=1e-5)
    truncated = latents.gaussian(jax.random.key(0), jnp.arange(100), 64, truncation=0.7)
    assert float(jnp.abs(truncated).max()) <= 0.7 and float(jnp.abs(truncated).max()) > 0.6
    again = latents.gaussian(jax.random.key(0), jnp.arange(3, 5), 64, truncation=0.7)
    np.testing.assert_array_equal(again, truncated[3:5])


def test_the_ema_parameters_are_used_when_the_state_has_them(workdir, monkeypatch):
    g = NetState(params="raw params", collections={"batch_stats": "live"}, opt_state=None)
    for g_ema, expected in [("ema params", "ema params"), (None, "raw params")]:
        ema = {} if g_ema is None else {"g": g_ema}
        state = types.SimpleNamespace(nets={"g": g}, ema=ema)
        monkeypatch.setattr(generate.checkpoints, "restore", lambda *a, s=state: (s, {}))
        net = generate.restore_generator(workdir).net
        assert net.params == expected and net.collections == {"batch_stats": "live"}


def test_existing_outputs_are_refused_unless_overwrite(workdir, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "000000.png").write_bytes(b"my own file")
    with pytest.raises(UserError, match="exists and is not empty.*--overwrite"):
        sample.run(workdir, folder, num=2)
    assert (folder / "000000.png").read_bytes() == b"my own file"
    npz = tmp_path / "mine.npz"
    npz.write_bytes(b"keep")
    with pytest.raises(UserError, match="exists: choose another name, or pass --overwrite"):
        sample.run(workdir, npz, num=2)
    assert npz.read_bytes() == b"keep"
    sample.run(workdir, npz, num=2, overwrite=True)
    assert np.load(npz)["images"].shape == (2, 28, 28, 1)
    sample.run(workdir, folder, num=1, overwrite=True)
    assert np.asarray(Image.open(folder / "000000.png")).shape == (28, 28)
    assert sorted(p.name for p in folder.iterdir()) == ["000000.png"]  # no temporary left


@pytest.mark.parametrize(
    "options,expected",
    [
        ({"num": 0}, "--num must be >= 1"),
        ({"num": 1, "interpolate": True}, "--num must be >= 2"),
        ({"batch_size": 0}, "--batch_size must be a positive integer"),
        ({"truncation": -1.0}, "--truncation must be positive"),
        ({"out": "one.png"}, "is one PNG: add --grid"),
        ({"out": "folder", "grid": True}, "--grid writes one PNG"),
        ({"step": 7}, r"no checkpoint of step 7: it has steps \[1, 2\]"),
        ({"label": 1}, "--label is for conditional runs: this run is unconditional"),
        ({"out": "walk.gif"}, "is a video of a latent walk: add --interpolate"),
        ({"out": "walk.mp4", "interpolate": True, "grid": True}, "add --interpolate .without"),
        ({"frames": 9}, "--frames is the length of an --interpolate path"),
        ({"frames": 1, "interpolate": True}, "--frames must be >= 2"),
        ({"out": "walk.gif", "interpolate": True, "fps": 0.0}, "--fps must be positive"),
    ],
)
def test_bad_options(workdir, tmp_path, options, expected):
    options = {"num": 2, **options}
    out = tmp_path / options.pop("out", "out.npz")
    with pytest.raises(UserError, match=expected):
        sample.run(workdir, out, **options)
    assert not out.exists()


def test_workdir_without_config_or_checkpoint(workdir, tmp_path):
    with pytest.raises(UserError, match="config.json does not exist"):
        sample.run(tmp_path / "nothing", tmp_path / "o.npz")
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_bytes((workdir / "config.json").read_bytes())
    with pytest.raises(UserError, match="has no checkpoint in .*train first"):
        sample.run(bare, tmp_path / "o.npz")
    assert sorted(p.name for p in bare.iterdir()) == ["config.json"]


def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "jaxgan.sample", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_cli_on_two_devices_matches_in_process(workdir, tmp_path):
    # 5 images in batches of 4 over 2 devices: rows split, the last batch padded.
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    result = run_cli(
        f"--workdir={workdir}",
        "--num=5",
        "--seed=4",
        "--batch_size=4",
        f"--out={tmp_path}/c.npz",
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "sampling: 100%" in result.stderr
    expected = np.load(sample.run(workdir, tmp_path / "i.npz", num=5, seed=4, batch_size=4))
    got = np.load(tmp_path / "c.npz")["images"]
    assert np.abs(got.astype(int) - expected["images"]).max() <= 1


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--num=abc"], "jaxgan: error: flag --num=abc"),
        (["--step=99"], "jaxgan: error: "),
    ],
)
def test_cli_errors_are_one_line(workdir, tmp_path, args, expected):
    result = run_cli(f"--workdir={workdir}", f"--out={tmp_path}/o.npz", *args)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(expected)
    assert not (tmp_path / "o.npz").exists()


def test_an_interpolation_gif_holds_the_strips_frames_enlarged(workdir, tmp_path):
    gif = sample.run(workdir, tmp_path / "walk.gif", seed=7, interpolate=True, frames=5, fps=20)
    strip = np.load(sample.run(workdir, tmp_path / "f.npz", num=5, seed=7, interpolate=True))
    with Image.open(gif) as picture:
        assert picture.n_frames == 5 and picture.info["loop"] == 0
        assert picture.info["duration"] == 50  # 20 fps
        frames = []
        for index in range(5):
            picture.seek(index)
            frames.append(np.asarray(picture.convert("L")))
    # 28 px enlarged 10 times (the smallest factor reaching 256 px), nearest-neighbour.
    expected = strip["images"][..., 0].repeat(10, axis=1).repeat(10, axis=2)
    np.testing.assert_array_equal(np.stack(frames), expected)


def test_an_interpolation_mp4_decodes_to_the_strips_frames(workdir, tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    mp4 = sample.run(workdir, tmp_path / "walk.mp4", seed=7, interpolate=True, frames=6, fps=12)
    strip = np.load(sample.run(workdir, tmp_path / "f.npz", num=6, seed=7, interpolate=True))
    reader = imageio_ffmpeg.read_frames(str(mp4))
    meta = reader.__next__()
    assert meta["size"] == (280, 280) and meta["fps"] == 12
    decoded = np.stack([np.frombuffer(f, np.uint8).reshape(280, 280, 3) for f in reader])
    expected = strip["images"].repeat(10, axis=1).repeat(10, axis=2).repeat(3, axis=-1)
    assert decoded.shape == expected.shape
    # H.264 at crf 18 is lossy, and its colour conversion rounds: close on average
    # (measured 0.39 grey levels).
    error = np.abs(decoded.astype(int) - expected).mean()
    assert error < 1.5, error
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp" or ".mp4." in p.name] == []


def test_an_mp4_without_its_encoder_is_refused_naming_the_package(workdir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import raises ImportError
    out = tmp_path / "walk.mp4"
    with pytest.raises(UserError, match="needs the package imageio-ffmpeg.*or write a .gif"):
        sample.run(workdir, out, interpolate=True)
    assert not out.exists()


def test_load_generator_draws_the_images_of_the_sample_command(workdir, tmp_path):
    import jaxgan

    G = jaxgan.load_generator(workdir)
    assert (G.step, G.latent_dim, G.num_classes) == (2, 16, 0)
    images = G.sample(jax.random.key(3), 5)
    assert images.shape == (5, 28, 28, 1) and images.dtype == jnp.float32
    expected = np.load(sample.run(workdir, tmp_path / "s.npz", num=5, seed=3))["images"]
    np.testing.assert_array_equal(G.to_uint8(images), expected)
    z = latents.gaussian(jax.random.key(3), jnp.arange(5), 16)
    np.testing.assert_array_equal(np.asarray(G(z)), np.asarray(images))
    # An earlier checkpoint is another generator; G is a JAX function of z.
    assert not np.array_equal(jaxgan.load_generator(workdir, step=1)(z), images)
    gradient = jax.jit(jax.grad(lambda z: G(z).mean()))(z)
    assert gradient.shape == z.shape and float(jnp.abs(gradient).sum()) > 0


def test_load_generator_bad_inputs_raise_naming_the_problem(workdir, tmp_path):
    import jaxgan

    with pytest.raises(jaxgan.UserError, match="config.json does not exist: is .* a jaxgan"):
        jaxgan.load_generator(tmp_path)
    with pytest.raises(jaxgan.UserError, match=r"no checkpoint of step 9: it has steps \[1, 2\]"):
        jaxgan.load_generator(workdir, step=9)
    G = jaxgan.load_generator(workdir)
    with pytest.raises(ValueError, match=r"z must have shape \(N, 16\)"):
        G(jnp.zeros((2, 3)))
    with pytest.raises(ValueError, match="labels are for a conditional generator"):
        G(jnp.zeros((2, 16)), labels=1)


def test_the_readmes_load_generator_snippet_runs(workdir, tmp_path, monkeypatch):
    import contextlib
    import io
    import re

    readme = (ROOT / "README.md").read_text()
    snippet = re.search(r"<!-- load_generator -->\n```python\n(.*?)```", readme, re.S).group(1)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "dcgan").symlink_to(workdir)
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(snippet, {"__name__": "readme_load_generator"})  # noqa: S102 - the README's code
    assert printed.getvalue().split() == ["2", "16", "0", "(16,", "28,", "28,", "1)", "uint8"]


def test_a_uniform_prior_family_is_sampled_from_its_prior():
    """BiGAN's G is trained on U[-1, 1] latents: training's grids, FID, jaxgan.sample and
    load_generator draw from that prior, not N(0, I)."""
    import jaxgan
    from jaxgan.families import bigan
    from jaxgan.sampling import sampler

    config = jaxgan.load_config("configs/bigan.py")
    assert latents.distribution(config) == "uniform"
    assert latents.distribution(tiny()) == "normal"
    key = jax.random.key(3)
    np.testing.assert_array_equal(sampler.latents(key, 6, config), bigan.prior(key, 6, config))
    drawn = latents.gaussian(key, jnp.arange(500), 4, None, "uniform")
    assert -1 <= float(drawn.min()) < -0.99 and 0.99 < float(drawn.max()) <= 1
    assert abs(float(jnp.mean(drawn**2)) - 1 / 3) < 0.02  # U[-1, 1]'s second moment
    path = latents.interpolation(key, 3, 4, None, "uniform")
    np.testing.assert_allclose(path[1], (path[0] + path[2]) / 2, rtol=1e-6)  # a straight line
