"""Image-to-image data and commands: the unpaired folder layout, MNIST -> thick MNIST,
the two-domain input pipeline (crops, flips, per-domain orders, resume), tiled
translation of any image size, a CycleGAN trained and resumed through the loop with its
pools, jaxgan.translate end to end and its refusals, and the translation scores."""

import pathlib

import jax
import numpy as np
import pytest
from PIL import Image

import jaxgan
from jaxgan import sample
from jaxgan.config import validation
from jaxgan.data import datasets, pipeline
from jaxgan.data.datasets import mnist_thick, unpaired
from jaxgan.metrics import evaluation, translation
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import tiling
from jaxgan.sampling import translation as translate
from jaxgan.training import checkpoints
from jaxgan.training import loop as train
from jaxgan.training.state import create_train_state

pytestmark = pytest.mark.usefixtures("module_cache")


def config_of(root, **overrides):
    config = jaxgan.base_config()
    config.family, config.dataset = "cyclegan", f"unpaired:{root}"
    config.image_size, config.num_channels, config.batch_size = 24, 3, 2
    config.g_width = config.d_width = 4
    config.cyclegan_blocks, config.cyclegan_pool_size = 1, 3
    config.num_train_steps, config.checkpoint_every_steps, config.log_every_steps = 4, 2, 2
    for name, value in overrides.items():
        config[name] = value
    return config


def save(path: pathlib.Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def make_layout(root: pathlib.Path, counts=(3, 5, 2, 0)) -> pathlib.Path:
    rng = np.random.default_rng(0)
    for side, count in zip(("trainA", "trainB", "testA", "testB"), counts, strict=True):
        for i in range(count):
            height, width = 30 + 7 * i, 40 + 3 * i  # any sizes
            save(root / side / f"{i}.png", rng.integers(0, 256, (height, width, 3), np.uint8))
    return root


def test_thickening_is_a_3x3_dilation():
    image = np.zeros((1, 5, 5, 1), np.uint8)
    image[0, 2, 2, 0], image[0, 0, 4, 0] = 200, 90
    thick = mnist_thick.thicken(image)[0, ..., 0]
    expected = np.zeros((5, 5), np.uint8)
    expected[0:2, 3:5] = 90
    expected[1:4, 1:4] = 200  # the brighter pixel wins where the two overlap
    np.testing.assert_array_equal(thick, expected)


def test_the_unpaired_layout_loads_whole_images_at_the_load_size(tmp_path):
    root = make_layout(tmp_path / "h2z")
    # A left-dark, right-bright image: resized whole (not centre-cropped) it stays so.
    halves = np.zeros((20, 60, 3), np.uint8)
    halves[:, 30:] = 255
    save(root / "trainA" / "halves.png", halves)
    config = config_of(root)
    dataset = datasets.load(config)
    assert isinstance(dataset, datasets.TwoDomains)
    assert dataset.a.shape == (4, 27, 27, 3)  # round(24 * 286 / 256) = 27
    assert dataset.b.shape == (5, 27, 27, 3) and len(dataset) == 5
    assert dataset.test_a.shape == (2, 24, 24, 3) and dataset.test_b.shape == (0, 24, 24, 3)
    squashed = dataset.a[3]  # sorted names: 0, 1, 2, halves
    assert squashed[:, :10].max() < 40 and squashed[:, -10:].min() > 215
    assert pipeline.translation_load_size(config_of(root, translation_load_size=30)) == 30


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda root: None, "does not exist: give --config.dataset=unpaired:DIR, a folder"),
        (lambda root: make_layout(root, (1, 0, 0, 0)), "has no trainB"),
        (
            lambda root: (root / "trainA").mkdir(parents=True) or (root / "trainB").mkdir(),
            "holds no files",
        ),
        (
            lambda root: (
                make_layout(root, (1, 1, 0, 0)) and (root / "trainB" / "x.png").write_text("no")
            ),
            "trainB/x.png is not an image",
        ),
    ],
)
def test_a_bad_unpaired_folder_is_refused_naming_the_problem(tmp_path, change, message):
    root = tmp_path / "data"
    change(root)
    with pytest.raises(UserError, match=message):
        unpaired.load(str(root), config_of(root))


def test_the_dataset_must_be_of_the_family_kind():
    with pytest.raises(UserError, match="set config.dataset to unpaired:PATH"):
        validation.check_data_dim(
            config_of("x", dataset="mnist"), datasets.Dataset(np.zeros((1, 2, 2, 1), np.uint8))
        )
    two = datasets.TwoDomains(*(np.zeros((1, 2, 2, 1), np.uint8) for _ in range(4)))
    with pytest.raises(UserError, match="holds two domains"):
        validation.check_data_dim(jaxgan.base_config(), two)


def test_two_domain_batches_crop_flip_and_resume_deterministically():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (3, 10, 10, 1), np.uint8)
    b = rng.integers(0, 256, (5, 10, 10, 1), np.uint8)
    empty = np.zeros((0, 8, 8, 1), np.uint8)
    dataset = datasets.TwoDomains(a, b, empty, empty)
    config = config_of("x", image_size=8, num_channels=1, batch_size=2, translation_load_size=10)
    stream = pipeline.two_domain_batches(dataset, config, 0)
    first = [next(stream) for _ in range(6)]
    assert first[0]["a"].shape == (1, 2, 8, 8, 1) and first[0]["b"].shape == (1, 2, 8, 8, 1)
    resumed = next(pipeline.two_domain_batches(dataset, config, 4))
    for name in "ab":
        np.testing.assert_array_equal(resumed[name], first[4][name])
    # Every output is an 8x8 window of one of its domain's images, or that window mirrored.
    for name, images in (("a", a), ("b", b)):
        windows = {
            crop.tobytes()
            for image in images
            for top in range(3)
            for left in range(3)
            for crop in (
                image[top : top + 8, left : left + 8],
                image[top : top + 8, left : left + 8][:, ::-1],
            )
        }
        for batch in first:
            pixels = np.rint((batch[name][0] + 1) * 127.5).astype(np.uint8)
            assert all(np.ascontiguousarray(p).tobytes() in windows for p in pixels)
    # With no crop margin and no flips, domain A's first pass is a permutation of its 3.
    plain = config_of(
        "x",
        image_size=10,
        num_channels=1,
        batch_size=1,
        translation_load_size=10,
        translation_flip=False,
    )
    stream = pipeline.two_domain_batches(dataset, plain, 0)
    seen = [np.rint((next(stream)["a"][0, 0] + 1) * 127.5).astype(np.uint8) for _ in range(3)]
    assert sorted(x.tobytes() for x in seen) == sorted(x.tobytes() for x in a)


def test_tiles_cover_the_image_and_blend_to_the_whole_result():
    assert tiling.starts(10, 16, 4) == [0]
    assert tiling.starts(40, 16, 4) == [0, 12, 24]
    ramp = tiling.ramp(8, 3)
    np.testing.assert_allclose(ramp, [0.25, 0.5, 0.75, 1, 1, 0.75, 0.5, 0.25])
    image = np.random.default_rng(0).uniform(-1, 1, (37, 53, 3)).astype(np.float32)
    pixelwise = lambda x: 2 * x[..., ::-1] + 0.5  # noqa: E731  (any per-pixel net)
    whole = tiling.apply(pixelwise, image, tile=64, overlap=8)
    tiled = tiling.apply(pixelwise, image, tile=16, overlap=4)
    np.testing.assert_allclose(whole, 2 * image[..., ::-1] + 0.5, rtol=1e-6)
    np.testing.assert_allclose(tiled, whole, rtol=1e-5, atol=1e-6)
    small = tiling.apply(lambda x: x, image[:5, :7], tile=16, overlap=4)
    np.testing.assert_array_equal(small, image[:5, :7])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny CycleGAN trained 4 steps straight, and 2 + 2 with a resume."""
    root = tmp_path_factory.mktemp("cyclegan")
    data = make_layout(root / "data")
    config = config_of(data)
    train.train_and_evaluate(config, root / "straight")
    train.train_and_evaluate(config_of(data, num_train_steps=2), root / "resumed")
    train.train_and_evaluate(config, root / "resumed")
    return root, config


def test_a_cyclegan_trains_through_the_loop_and_resumes_exactly(trained):
    root, config = trained
    states = []
    for run in ("straight", "resumed"):
        mngr = checkpoints.manager(root / run, config)
        try:
            resolved = unpaired_resolved(config)
            state, progress = checkpoints.restore(mngr, create_train_state(resolved))
        finally:
            mngr.close()
        assert progress["batches_consumed"] == 4
        states.append(jax.device_get(state))
    same = jax.tree.map(np.array_equal, *states)
    assert all(jax.tree.leaves(same)), "the resumed run differs (pools included)"
    assert int(states[0].extras["pool_a"].count) == 3
    strip = np.asarray(Image.open(root / "straight" / "samples" / "step_4.png"))
    # A's 2 test images (testA), then 4 centre crops of B's training images (no testB):
    # 6 rows of input | translation | cycle.
    assert strip.shape == (2 + 6 * 26, 2 + 3 * 26, 3)


def unpaired_resolved(config):
    """The config as training resolves it (epoch steps from the data: 5 // 2)."""
    resolved = config.copy_and_resolve_references()
    resolved.translation_epoch_steps = 2
    return resolved


def test_translate_keeps_names_and_sizes_and_refuses_to_lose_anything(trained, tmp_path):
    root, _ = trained
    run = root / "straight"
    inputs = tmp_path / "in"
    save(inputs / "x.png", np.full((40, 30, 3), 100, np.uint8))
    save(inputs / "deep" / "y.jpg", np.full((70, 90, 3), 200, np.uint8))
    written = translate.run(run, inputs, tmp_path / "out", "BtoA", tile=32, overlap=4)
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "deep/y.jpg",
        "x.png",
    ]
    assert Image.open(tmp_path / "out" / "x.png").size == (30, 40)
    assert Image.open(tmp_path / "out" / "deep" / "y.jpg").size == (90, 70)
    before = (tmp_path / "out" / "x.png").read_bytes()
    with pytest.raises(UserError, match="exists .2 of the 2 outputs"):
        translate.run(run, inputs, tmp_path / "out")
    with pytest.raises(UserError, match="would replace the input"):
        translate.run(run, inputs, inputs, overwrite=True)
    assert (tmp_path / "out" / "x.png").read_bytes() == before
    (inputs / "notes.txt").write_text("not an image")
    with pytest.raises(UserError, match="notes.txt is not an image"):
        translate.run(run, inputs, tmp_path / "out2")
    (inputs / "notes.txt").unlink()
    save(inputs / "tiny.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(UserError, match="tiny.png is 8x8"):
        translate.run(run, inputs, tmp_path / "out3")
    assert not (tmp_path / "out2").exists() and not (tmp_path / "out3").exists()
    with pytest.raises(UserError, match="translates images"):
        sample.run(run, tmp_path / "s.npz", 4)


def test_a_noise_run_is_refused_by_translate(tiny_run, tmp_path):
    save(tmp_path / "x.png", np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(UserError, match="generates from noise"):
        translate.run(tiny_run, tmp_path / "x.png", tmp_path / "y.png")


def test_translation_scores_compare_with_the_true_counterparts(monkeypatch):
    rng = np.random.default_rng(0)
    test_a = rng.integers(0, 256, (6, 28, 28, 1), np.uint8)
    dataset = datasets.TwoDomains(
        test_a,
        test_a,
        test_a,
        mnist_thick.thicken(test_a),
        test_counterparts=True,
        test_labels=np.arange(6, dtype=np.int32),
    )
    monkeypatch.setattr(datasets, "load", lambda config: dataset)

    def perfect(restored, direction, images):  # translations = the truth, cycles = input
        truth = dataset.test_b if direction == "AtoB" else dataset.test_a
        return truth, images

    monkeypatch.setattr(translation, "translated", perfect)
    monkeypatch.setattr(
        translation.mnist_classifier, "load_or_train", lambda name, data_dir: (name, 0.9)
    )
    # A classifier that knows domain B's images (by their bytes) and nothing else.
    known = {image.tobytes(): i for i, image in enumerate(dataset.test_b)}
    monkeypatch.setattr(
        translation.mnist_classifier,
        "predict",
        lambda params, images: np.array([known.get(x.tobytes(), -1) for x in images]),
    )
    config = jaxgan.base_config()
    config.dataset, config.image_size, config.num_channels = "mnist_thick", 28, 1
    restored = type("R", (), {"config": config, "step": 7, "family": object()})()
    record = translation.record(restored)
    assert record["mae_AtoB"] == 0 and record["cycle_AtoB"] == 0
    expected = np.mean(np.abs(test_a.astype(float) - dataset.test_b)) / 255
    assert record["mae_AtoB_identity"] == pytest.approx(expected)
    assert record["class_accuracy_AtoB"] == 1.0 and record["class_accuracy_BtoA"] == 0.0
    assert record["classifier_accuracy_B"] == 0.9


def test_evaluate_scores_a_run_without_counterparts_with_a_note(trained):
    root, _ = trained
    record = evaluation.evaluate_checkpoint(root / "straight")
    assert "no test images with known counterparts" in record["note"]
    assert (root / "straight" / "eval" / "metrics_4.json").is_file()
    with pytest.raises(UserError, match="image-to-image run"):
        evaluation.evaluate_checkpoint(root / "straight", truncation=1.0)
