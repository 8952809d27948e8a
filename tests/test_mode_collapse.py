"""The mode-collapse laboratory: packing, vector data through training and evaluation,
the scatter plot, the configs and what they refuse."""

import json

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from PIL import Image

from jaxgan import sample
from jaxgan.config import validation as config_validation
from jaxgan.config.loading import load_config
from jaxgan.data import datasets
from jaxgan.data import pipeline as input_pipeline
from jaxgan.launch import compare
from jaxgan.metrics import evaluation, mnist_classifier, mode_evaluation
from jaxgan.metrics import modes as mode_metrics
from jaxgan.nn import models
from jaxgan.objectives import packing
from jaxgan.runtime.errors import UserError
from jaxgan.training import loop as train
from jaxgan.training import state as train_state
from jaxgan.training.step import make_train_step


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
    # PacGAN's simultaneous updates; unrolling from the updated D, as before the notebook's
    # simultaneous unrolling existed.
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
    default_init = mode_config("ring8,gan")
    default_init.mlp_orthogonal_gain = 0.0
    metz = train_state.create_train_state(default_init)
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
    config = tiny_ring(pack=4, mlp_activation="relu")  # unbounded hidden layers too
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


def test_compare_puts_the_rows_of_several_sweeps_in_one_table(tmp_path, capsys):
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
    # A root without a finished sweep: one line, exit 2, nothing written.
    with pytest.raises(SystemExit) as stopped:
        compare.main([str(tmp_path / "gan"), str(tmp_path / "missing")])
    assert stopped.value.code == 2
    missing = tmp_path / "missing" / "results.csv"
    assert capsys.readouterr().err == (
        f"jaxgan: error: {missing} cannot be read (No such file or directory): "
        "run the sweep first\n"
    )
    assert not (tmp_path / "missing").exists()


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


# --- The unrolled GAN notebook's settings (configs/mode_collapse.py, `metz`) ---------


def test_metz_ring_has_the_notebooks_seven_distinct_modes():
    from jaxgan.data.datasets import metz_ring

    centres = metz_ring.centres()
    assert centres.shape == (7, 2)
    np.testing.assert_allclose(metz_ring.components()[-1], [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(centres[0], [0.0, 1.0])
    # linspace(0, 2 pi, 8) steps by 2 pi / 7: neighbours 2 sin(pi / 7) apart, on the circle.
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 1.0)
    gaps = np.linalg.norm(centres - np.roll(centres, -1, axis=0), axis=1)
    np.testing.assert_allclose(gaps, 2 * np.sin(np.pi / 7))
    np.testing.assert_allclose(metz_ring.weights(), [2 / 8] + [1 / 8] * 6)
    config = mode_config("metz_ring,gan")
    config.dataset = "metz_ring:80000"
    data = datasets.load(config)
    assert data.num_classes == 7 and data.images.shape == (80_000, 2)
    shares = np.bincount(data.labels, minlength=7) / len(data)
    # Binomial standard error at 80k points: 0.0015 (p 1/4) and 0.0012 (p 1/8).
    np.testing.assert_allclose(shares, metz_ring.weights(), atol=0.006)
    offsets = data.images - centres[data.labels]
    np.testing.assert_allclose(np.std(offsets, axis=0), 0.01, rtol=0.02)


def test_reverse_kl_to_the_datas_mode_weights():
    # p = (1/2, 1/2, 0) against q = (1/2, 1/4, 1/4): 1/2 log 1 + 1/2 log 2.
    kl = mode_metrics.kl_to_uniform(np.array([5, 5, 0]), np.array([0.5, 0.25, 0.25]))
    assert kl == pytest.approx(0.5 * np.log(2))
    assert mode_metrics.kl_to_uniform(np.array([2, 1, 1]), np.array([0.5, 0.25, 0.25])) == 0
    assert mode_metrics.kl_to_uniform(np.array([5, 5, 0])) == pytest.approx(np.log(3 / 2))


def test_metz_networks_are_the_notebooks():
    config = mode_config("metz_ring,gan")
    state = train_state.create_train_state(config)
    g, d = state.g.params, state.d.params
    shapes = lambda p: {k: v["kernel"].shape for k, v in p.items()}  # noqa: E731
    assert shapes(g) == {"Dense_0": (256, 128), "Dense_1": (128, 128), "Dense_2": (128, 2)}
    assert shapes(d) == {"Dense_0": (2, 128), "Dense_1": (128, 128), "Dense_2": (128, 1)}
    # Orthogonal with gain 1.4: the shorter side's vectors orthogonal, of norm 1.4.
    for kernel in [*(v["kernel"] for v in g.values()), *(v["kernel"] for v in d.values())]:
        kernel = np.asarray(kernel, np.float64)
        gram = kernel.T @ kernel if kernel.shape[0] >= kernel.shape[1] else kernel @ kernel.T
        np.testing.assert_allclose(gram, 1.96 * np.eye(len(gram)), atol=2e-5)
    for bias in [*(v["bias"] for v in g.values()), *(v["bias"] for v in d.values())]:
        assert not np.any(np.asarray(bias))
    # tanh hidden layers and linear outputs, computed by hand.
    generator, discriminator = models.build(config)
    z = jax.random.normal(jax.random.key(3), (5, 256))
    h = np.tanh(np.tanh(z @ g["Dense_0"]["kernel"]) @ g["Dense_1"]["kernel"])
    points = generator.apply({"params": g}, z, train=False)
    np.testing.assert_allclose(points, h @ g["Dense_2"]["kernel"], rtol=1e-5, atol=1e-6)
    h = np.tanh(np.tanh(points @ d["Dense_0"]["kernel"]) @ d["Dense_1"]["kernel"])
    logits = discriminator.apply({"params": d}, points, train=False)
    np.testing.assert_allclose(logits, (h @ d["Dense_2"]["kernel"])[:, 0], rtol=1e-5, atol=1e-6)
    assert (config.loss, config.simultaneous_updates) == ("minimax", True)
    assert (config.batch_size, config.num_train_steps) == (512, 25_000)
    assert (config.g_learning_rate, config.d_learning_rate, config.g_beta1) == (1e-3, 1e-4, 0.5)


def notebook_step(g, d, z, real, unroll_steps, d_lr=1e-4, g_lr=1e-3):
    """One iteration of the unrolled GAN notebook, written out: the saddle objective,
    D's Adam step and G's Adam step on -f(G, D after `unroll_steps` Adam steps of D from
    its current state), both from the same parameters (one sess.run), Adam from zero
    moments at t = 1."""

    def mlp(params, x):
        for name in ("Dense_0", "Dense_1"):
            x = jnp.tanh(x @ params[name]["kernel"] + params[name]["bias"])
        return x @ params["Dense_2"]["kernel"] + params["Dense_2"]["bias"]

    def saddle(g, d):
        real_logits, fake_logits = mlp(d, real)[:, 0], mlp(d, mlp(g, z))[:, 0]
        return jnp.mean(jax.nn.softplus(-real_logits) + jax.nn.softplus(fake_logits))

    def adam(params, grads, moments, t, lr):
        m, v = moments
        m = jax.tree.map(lambda m, g: 0.5 * m + 0.5 * g, m, grads)
        v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
        new = jax.tree.map(
            lambda p, m, v: p - lr * (m / (1 - 0.5**t)) / (jnp.sqrt(v / (1 - 0.999**t)) + 1e-8),
            params, m, v,
        )  # fmt: skip
        return new, (m, v)

    zeros = lambda tree: jax.tree.map(jnp.zeros_like, tree)  # noqa: E731

    def unrolled_loss(g):
        params, moments = d, (zeros(d), zeros(d))
        for t in range(1, unroll_steps + 1):
            params, moments = adam(params, jax.grad(saddle, 1)(g, params), moments, t, d_lr)
        return saddle(g, params)

    d_grads, g_grads = jax.grad(saddle, 1)(g, d), jax.grad(lambda g: -unrolled_loss(g))(g)
    new_d, _ = adam(d, d_grads, (zeros(d), zeros(d)), 1, d_lr)
    new_g, _ = adam(g, g_grads, (zeros(g), zeros(g)), 1, g_lr)
    return (new_g, g_grads), (new_d, d_grads)


@pytest.mark.parametrize("remedy", ["gan", "unrolled3"])
def test_metz_step_is_the_notebooks_iteration(remedy):
    config = mode_config(f"metz_ring,{'unrolled5' if remedy != 'gan' else 'gan'}")
    fields = dict(g_width=8, d_width=8, latent_dim=3, batch_size=16, dataset="metz_ring:64")
    for name, value in fields.items():
        config[name] = value
    if remedy != "gan":
        config.unroll_steps = 3
    state = train_state.create_train_state(config)
    real = np.random.default_rng(0).normal(size=(1, 16, 2)).astype(np.float32)
    # Step 0's latents, as the gan family draws them (jaxgan/families/gan.py, Keys).
    key = jax.random.fold_in(jax.random.wrap_key_data(state.key), 0)
    z = jax.random.normal(jax.random.fold_in(jax.random.split(key, 3)[0], 0), (16, 3))
    g, d = jax.device_get((state.g.params, state.d.params))  # before the step donates them
    new_state, _ = make_train_step(config)(state, {"image": real})
    expected = notebook_step(g, d, z, real[0], config.unroll_steps)
    for net, (params, grads) in zip((new_state.g, new_state.d), expected, strict=True):
        chex.assert_trees_all_close(jax.device_get(net.params), params, atol=1e-6)
        # Adam's first step moves each weight by about lr whatever its gradient: the
        # gradients themselves are checked through the first moment, 0.5 of them.
        first_moment = optax.tree_utils.tree_get(net.opt_state, "mu")
        chex.assert_trees_all_close(
            jax.device_get(first_moment),
            jax.tree.map(lambda g: 0.5 * g, grads), rtol=2e-4, atol=1e-7,
        )  # fmt: skip


def test_scatter_strip_puts_each_runs_plots_in_a_row(tmp_path):
    from jaxgan.launch import scatter_strip

    colours = {("a", 0): (255, 0, 0), ("a", 10): (0, 255, 0), ("b", 0): (0, 0, 255)}
    colours[("b", 10)] = (255, 255, 0)
    for (run, step), colour in colours.items():
        (tmp_path / run / "samples").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 64), colour).save(tmp_path / run / "samples" / f"scatter_{step}.png")
    runs = [(tmp_path / "a", "A"), (tmp_path / "b", "B")]
    figure = scatter_strip.strip(runs, [0, 10], tile=20)
    left, top = scatter_strip.LABEL_WIDTH, scatter_strip.LABEL_HEIGHT
    assert figure.size == (left + 40, top + 40)
    for (run, step), colour in colours.items():
        x = left + 20 * (step // 10) + 10
        y = top + 20 * (run == "b") + 10
        assert figure.getpixel((x, y)) == colour
    with pytest.raises(UserError, match="no scatter plot at step 5"):
        scatter_strip.strip(runs, [5], tile=20)


def test_scatter_strip_reads_labels_and_workdirs_with_colons(tmp_path):
    from jaxgan.launch import scatter_strip

    plain = tmp_path / "run"
    plain.mkdir()
    grid = tmp_path / "dataset=ring8:1000"
    grid.mkdir()
    assert scatter_strip.parse_run(f"{plain}:GAN, 5 steps") == (plain, "GAN, 5 steps")
    assert scatter_strip.parse_run(str(plain)) == (plain, "run")
    assert scatter_strip.parse_run(str(grid)) == (grid, "dataset=ring8:1000")
    assert scatter_strip.parse_run(f"{grid}:seed 0") == (grid, "seed 0")
