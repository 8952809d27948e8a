"""The mode-collapse laboratory: packing, vector data through training and evaluation,
the scatter plot, the configs and what they refuse."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from jaxgan import (
    config_validation,
    datasets,
    evaluation,
    input_pipeline,
    mnist_classifier,
    mode_evaluation,
    models,
    packing,
    sample,
    train,
    train_state,
)
from jaxgan.config_loading import load_config
from jaxgan.errors import UserError
from jaxgan.launch import compare


def mode_config(arg: str):
    return load_config(f"configs/mode_collapse.py:{arg}")


def tiny_ring(**overrides):
    """ring8 with 16-unit MLPs, batch 16: compiles in about a second."""
    config = mode_config("ring8,gan")
    fields = dict(
        g_width=16, d_width=16, latent_dim=4, batch_size=16, num_train_steps=2,
        log_every_steps=1, checkpoint_every_steps=2, num_samples=64, dataset="ring8:512",
    )  # fmt: skip
    for name, value in {**fields, **overrides}.items():
        config[name] = value
    return config


def test_pack_concatenates_consecutive_samples_along_the_last_axis():
    vectors = jnp.arange(12.0).reshape(6, 2)
    packed = packing.pack(vectors, 3)
    np.testing.assert_array_equal(packed, [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
    images = jnp.arange(4 * 2 * 2 * 3.0).reshape(4, 2, 2, 3)
    packed = packing.pack(images, 2)
    assert packed.shape == (2, 2, 2, 6)
    np.testing.assert_array_equal(packed[1, :, :, :3], images[2])
    np.testing.assert_array_equal(packed[1, :, :, 3:], images[3])
    np.testing.assert_array_equal(packing.unpack(packed, 2), images)
    assert packing.pack(images, 1) is images and packing.unpack(images, 1) is images


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(pack=3), "must divide by config.pack=3"),
        (dict(pack=0), "config.pack must be an integer >= 1"),
        (dict(pack=2, conditional=True), "config.pack > 1 with config.conditional"),
        (dict(model="dcgan"), "needs config.model='mlp'"),
        (dict(diffaugment="color"), "vector data (data_dim > 0) have none"),
        (dict(fid_every_steps=2), "FID is for images"),
    ],
)
def test_refused_combinations(overrides, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config_validation.validate(tiny_ring(**overrides))


def test_a_dataset_of_the_other_kind_is_refused():
    config = tiny_ring(data_dim=0, model="mlp")
    with pytest.raises(UserError, match="is 2-D points: set config.data_dim=2"):
        config_validation.check_data_dim(config, datasets.load(config))


@pytest.mark.parametrize("dataset", ["ring8", "grid25", "stacked_mnist"])
@pytest.mark.parametrize("remedy", ["gan", "unrolled5", "unrolled10", "minibatch", "pack4"])
def test_every_config_validates(dataset, remedy):
    config = mode_config(f"{dataset},{remedy}")
    config_validation.validate(config)
    assert mode_evaluation.benchmark(config) == dataset


def test_packed_discriminator_and_unbounded_generator():
    config = tiny_ring(pack=4)
    state = train_state.create_train_state(config)
    # D's first layer sees 4 points of 2 numbers.
    assert state.d.params["Dense_0"]["kernel"].shape == (8, 16)
    generator, _ = models.build(config)
    z = 100.0 * jnp.ones((3, config.latent_dim))
    points = generator.apply({"params": state.g.params}, z, train=False)
    assert points.shape == (3, 2)
    assert float(jnp.max(jnp.abs(points))) > 1.0  # linear output, no tanh


def test_short_ring8_run_writes_a_scatter_plot_and_is_scored_by_modes(tmp_path):
    # Packed, with a gradient penalty at the packed inputs: training stops on a
    # non-finite loss, so finishing is the check.
    config = tiny_ring(pack=2, penalty="wgan_gp", loss="wasserstein")
    train.train_and_evaluate(config, tmp_path)
    with Image.open(tmp_path / "samples" / "scatter_2.png") as png:
        png.load()
        assert png.size == (512, 512) and png.mode == "RGB"
    record = evaluation.evaluate_checkpoint(tmp_path, num_samples=100, batch_size=32)
    assert set(record) == {"step", "num_samples", "modes", "hq_pct", "reverse_kl", "protocol"}
    assert record["num_samples"] == 100 and 0 <= record["modes"] <= 8
    written = json.loads((tmp_path / "eval" / "metrics_2.json").read_text())
    assert written["modes"] == record["modes"]
    with pytest.raises(UserError, match="generates 2-D points, not images"):
        sample.run(tmp_path, tmp_path / "points.npz", num=4)


def test_stacked_mnist_record_with_a_hand_made_classifier(monkeypatch):
    monkeypatch.setattr(mnist_classifier, "load_or_train", lambda: ("params", 0.995))
    # The "classifier" reads each channel's digit from its first pixel.
    monkeypatch.setattr(
        mnist_classifier, "classify_channels", lambda params, images: images[:, 0, 0, :] // 20
    )
    digits = np.array([[1, 2, 3], [1, 2, 3], [4, 5, 6], [0, 0, 9]])
    images = np.broadcast_to((digits * 20)[:, None, None, :], (4, 28, 28, 3)).astype(np.uint8)
    record = mode_evaluation.record(mode_config("stacked_mnist,gan"), images, 7, {})
    p = np.array([0.5, 0.25, 0.25])
    assert record["modes"] == 3 and record["step"] == 7
    assert record["kl"] == pytest.approx(float(np.sum(p * np.log(p * 1000))))
    assert "99.50% test accuracy" in record["protocol"]["classifier"]


@pytest.mark.slow
def test_the_digit_classifier_reaches_99_percent(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXGAN_CACHE_DIR", str(tmp_path))
    params, test_accuracy = mnist_classifier.load_or_train()
    assert test_accuracy >= 0.99
    assert mnist_classifier.cache_path().is_file()
    cached, again = mnist_classifier.load_or_train()
    assert again == test_accuracy
    np.testing.assert_array_equal(params["Dense_1"]["kernel"], cached["Dense_1"]["kernel"])


def test_compare_puts_the_rows_of_several_sweeps_in_one_table(tmp_path):
    header = (
        "seeds_finished,seeds_failed,runs,modes_mean,modes_std,hq_pct_mean,hq_pct_std,best,errors"
    )
    rows = {"gan": "2,0,2,1.0,0.0,90.0,1.5,0,", "pack2": "1,1,2,6.5,,40.0,,0,x"}
    for remedy, row in rows.items():
        root = tmp_path / remedy
        root.mkdir()
        (root / "results.csv").write_text(f"{header}\n{row}\n")
        (root / "sweep.json").write_text(
            json.dumps({"config": f"/x/configs/mode_collapse.py:ring8,{remedy}", "grid": {}})
        )
    text = compare.table([tmp_path / "gan", tmp_path / "pack2"])
    lines = text.splitlines()
    assert lines[0] == "| config | seeds | modes | hq_pct |"
    assert lines[2] == "| mode_collapse.py:ring8,gan | 2/2 | 1 ± 0 | 90.0 ± 1.5 |"
    assert lines[3] == "| mode_collapse.py:ring8,pack2 | 1/2 | 6.5 ±— | 40 ±— |"


def test_unrolled_adam_is_differentiable_where_a_gradient_is_zero():
    # A dead ReLU unit of D has an exactly-zero gradient; G differentiates through D's
    # unrolled Adam steps, where sqrt(v) at v = 0 has an infinite derivative.
    config = tiny_ring(unroll_steps=1)

    def update_sum(tx, w):
        grads = {"w": w * jnp.array([1.0, 0.0])}
        updates, _ = tx.update(grads, tx.init(grads))
        return jnp.sum(updates["w"])

    plain = jax.grad(lambda w: update_sum(train_state.optimizers(config)[1], w))(jnp.ones(2))
    unrolled = jax.grad(lambda w: update_sum(train_state.unrolled_d_optimizer(config), w))(
        jnp.ones(2)
    )
    assert not np.all(np.isfinite(plain))
    assert np.all(np.isfinite(unrolled))


def test_vector_batches_are_the_points_unscaled():
    config = tiny_ring(d_steps=2)
    dataset = datasets.load(config)
    batch = next(input_pipeline.real_batches(dataset, config, start_batch=0))
    assert batch["image"].shape == (2, 16, 2) and batch["image"].dtype == np.float32
    indices = input_pipeline.batch_indices(len(dataset), 16, config.seed, 1)
    np.testing.assert_array_equal(batch["image"][1], dataset.images[indices])
    np.testing.assert_array_equal(batch["label"][1], dataset.labels[indices])
