"""The mode-collapse laboratory: packing, vector data through training and evaluation,
the scatter plot, the configs and what they refuse."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from jaxgan import sample
from jaxgan.config import validation as config_validation
from jaxgan.config.loading import load_config
from jaxgan.data import datasets
from jaxgan.data import pipeline as input_pipeline
from jaxgan.launch import compare
from jaxgan.metrics import evaluation, mnist_classifier, mode_evaluation
from jaxgan.nn import models
from jaxgan.objectives import packing
from jaxgan.runtime.errors import UserError
from jaxgan.training import loop as train
from jaxgan.training import state as train_state


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
        (dict(mlp_g_depth=0), "config.mlp_g_depth must be an integer >= 1"),
        (dict(mlp_d_depth=0), "config.mlp_d_depth must be an integer >= 1"),
        (dict(mlp_maxout_pieces=1), "config.mlp_maxout_pieces must be an integer >= 2"),
        (dict(mlp_init_std=-0.02), "config.mlp_init_std must be >= 0"),
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
@pytest.mark.parametrize(
    "remedy", ["gan", "unrolled5", "unrolled10", "minibatch", "pack2", "pack3", "pack4"]
)
def test_every_config_validates(dataset, remedy):
    config = mode_config(f"{dataset},{remedy}")
    config_validation.validate(config)
    assert mode_evaluation.benchmark(config) == dataset
    # D judges as many inputs whatever the packing (512 for the 2D sets, 64 for MNIST).
    assert config.batch_size == (64 if dataset == "stacked_mnist" else 512) * config.pack


@pytest.mark.parametrize("dataset", ["ring8", "grid25"])
@pytest.mark.parametrize("remedy", ["gan", "unrolled5", "minibatch", "pack2", "pack3"])
def test_every_pacgan_config_validates(dataset, remedy):
    config = mode_config(f"{dataset},{remedy},pacgan")
    config_validation.validate(config)
    # 100 packed inputs of D a step, as PacGAN's batch_size 100 of m-point rows.
    assert config.batch_size == 100 * config.pack
    assert config.num_train_steps == 400_000
    # PacGAN's simultaneous updates, except where unrolling looks ahead by construction.
    assert config.simultaneous_updates == (not remedy.startswith("unrolled"))


@pytest.mark.parametrize(
    "arg", ["stacked_mnist,gan,pacgan", "ring8,gan,veegan", "ring8,gan,pacgan,more", "ring9,gan"]
)
def test_bad_config_arguments_are_refused(arg):
    with pytest.raises(ValueError, match=r"DATASET,REMEDY\[,NETWORKS\]"):
        mode_config(arg)


def test_metz_is_the_default_network_choice():
    assert mode_config("grid25,pack2,metz").to_dict() == mode_config("grid25,pack2").to_dict()


def shapes(tree) -> dict:
    return {jax.tree_util.keystr(path): leaf.shape for path, leaf in
            jax.tree_util.tree_flatten_with_path(tree)[0]}  # fmt: skip


@pytest.mark.parametrize("m", [1, 4])
def test_pacgan_networks_have_the_papers_shapes(m):
    config = mode_config(f"ring8,{'gan' if m == 1 else f'pack{m}'},pacgan")
    state = jax.eval_shape(lambda: train_state.create_train_state(config))
    # G: 2 -> 4 x (Dense 400 without bias, BatchNorm, ReLU) -> Dense 2 with bias.
    expected_g = {"['Dense_0']['kernel']": (2, 400), "['Dense_4']['kernel']": (400, 2)}
    expected_g |= {f"['Dense_{i}']['kernel']": (400, 400) for i in (1, 2, 3)}
    expected_g["['Dense_4']['bias']"] = (2,)
    for i in range(4):
        expected_g |= {f"['BatchNorm_{i}']['{p}']": (400,) for p in ("scale", "bias")}
    assert shapes(state.g.params) == expected_g
    stats = {f"['batch_stats']['BatchNorm_{i}']['{s}']": (400,) for i in range(4)
             for s in ("mean", "var")}  # fmt: skip
    assert shapes(state.g.collections) == stats
    # D: 2m -> 3 maxout layers of 200 units x 5 pieces -> one logit.
    expected_d = {
        "['Maxout_0']['Dense_0']['kernel']": (2 * m, 1000),
        "['Maxout_1']['Dense_0']['kernel']": (200, 1000),
        "['Maxout_2']['Dense_0']['kernel']": (200, 1000),
        "['Dense_0']['kernel']": (200, 1),
        "['Dense_0']['bias']": (1,),
    }
    expected_d |= {f"['Maxout_{i}']['Dense_0']['bias']": (1000,) for i in range(3)}
    assert shapes(state.d.params) == expected_d
    count = lambda tree: sum(int(np.prod(s)) for s in shapes(tree).values())  # noqa: E731
    # Counted by hand: G 2*400 + 3*400*400 + 400*2 + 2 + 4*(400 + 400) BatchNorm;
    # D (2m*1000 + 1000) + 2*(200*1000 + 1000) + 200 + 1.
    assert count(state.g.params) == 484_802
    assert count(state.d.params) == 2000 * m + 403_201


def test_pacgan_initialisation_and_batch_norm():
    config = mode_config("ring8,pack2,pacgan")
    state = train_state.create_train_state(config)
    g, d = state.g.params, state.d.params
    # Measured std of N(0, 0.02) kernels: 160k and 200k entries (within 1%), 800 (10%).
    for kernel, tolerance in (
        (g["Dense_1"]["kernel"], 0.0002),
        (d["Maxout_1"]["Dense_0"]["kernel"], 0.0002),
        (g["Dense_4"]["kernel"], 0.002),
    ):
        assert abs(float(jnp.mean(kernel))) < tolerance
        assert abs(float(jnp.std(kernel)) - 0.02) < tolerance
    for bias in (g["Dense_4"]["bias"], d["Maxout_0"]["Dense_0"]["bias"], d["Dense_0"]["bias"]):
        assert not np.any(np.asarray(bias))
    assert "bias" not in g["Dense_0"]  # BatchNorm's shift replaces it
    # The default initialisation (Flax's LeCun normal) is untouched: std 1/sqrt(fan_in).
    metz = train_state.create_train_state(mode_config("ring8,gan"))
    assert abs(float(jnp.std(metz.g.params["Dense_1"]["kernel"])) - 128**-0.5) < 0.005
    # In training, G's BatchNorm normalises over the batch and moves its running mean by
    # 0.05 of the batch's (Blocks' population update in PacGAN's code).
    generator, _ = models.build(config)
    z = jax.random.normal(jax.random.key(1), (200, 2))
    _, updated = generator.apply(
        {"params": g, **state.g.collections}, z, train=True, mutable=["batch_stats"]
    )
    batch_mean = jnp.mean(z @ g["Dense_0"]["kernel"], axis=0)
    np.testing.assert_allclose(
        updated["batch_stats"]["BatchNorm_0"]["mean"], 0.05 * batch_mean, rtol=1e-4, atol=1e-7
    )


def test_short_pacgan_run_trains_and_is_scored(tmp_path):
    config = mode_config("ring8,pack2,pacgan")
    fields = dict(
        num_train_steps=2, log_every_steps=1, checkpoint_every_steps=2, num_samples=64,
        dataset="ring8:1000",
    )  # fmt: skip
    for name, value in fields.items():
        config[name] = value
    train.train_and_evaluate(config, tmp_path)
    record = evaluation.evaluate_checkpoint(tmp_path, num_samples=100, batch_size=50)
    assert record["num_samples"] == 100 and 0 <= record["modes"] <= 8


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
