"""The pix2pix family (jaxgan/families/pix2pix.py), its U-Net and paired data: the
reference's parameter counts, dropout where the reference has it, the losses in closed
form, paired:PATH's two layouts (A|B images; folders of matching names) with the same
crop and flip for both halves, and a tiny run through the loop, translate and evaluate."""

import pathlib

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax.traverse_util import flatten_dict
from PIL import Image

import jaxgan
from jaxgan.config import validation
from jaxgan.data import datasets, pipeline
from jaxgan.data.datasets import paired
from jaxgan.families import Context, _translation_nets, pix2pix
from jaxgan.metrics import evaluation
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import translation as translate
from jaxgan.training import loop as train
from jaxgan.training.state import create_train_state

pytestmark = pytest.mark.usefixtures("module_cache")


def count(module, shape):
    keys = {"params": jax.random.key(0), "dropout": jax.random.key(1)}
    variables = jax.eval_shape(lambda: module.init(keys, jnp.zeros(shape), train=False))
    return sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(variables["params"]))


def test_the_nets_have_the_reference_parameter_counts():
    """pytorch-CycleGAN-and-pix2pix prints G 54.414 M (unet_256, ngf 64, batch norm) and
    D 2.769 M (basic, 6 input channels, batch norm); by its layer arithmetic, exactly."""
    assert count(_translation_nets.UnetGenerator(), (1, 256, 256, 3)) == 54_413_955
    assert count(_translation_nets.PatchDiscriminator(norm="batch"), (1, 256, 256, 6)) == 2_768_705


def test_dropout_is_in_the_three_levels_outside_the_innermost_only():
    net = _translation_nets.UnetGenerator(num_channels=1, width=2, downs=8)
    x = jax.random.normal(jax.random.key(0), (2, 256, 256, 1))
    variables = net.init({"params": jax.random.key(1), "dropout": jax.random.key(2)}, x)
    # Each Dropout module called records its output: one per level that has one.
    _, captured = net.apply(
        variables,
        x,
        mutable=["batch_stats", "intermediates"],
        rngs={"dropout": jax.random.key(3)},
        capture_intermediates=lambda module, _: isinstance(module, nn.Dropout),
    )
    names = sorted(name for name, _ in flatten_dict(captured["intermediates"]).items())
    # Three, as the reference's num_downs - 5 dropout blocks of unet_256.
    assert [name[0] for name in names] == ["Dropout_0", "Dropout_1", "Dropout_2"]
    first, _ = net.apply(variables, x, mutable=["batch_stats"], rngs={"dropout": jax.random.key(4)})
    second, _ = net.apply(
        variables, x, mutable=["batch_stats"], rngs={"dropout": jax.random.key(5)}
    )
    assert not np.allclose(first, second)  # dropout on in training mode
    still = _translation_nets.UnetGenerator(num_channels=1, width=2, downs=8, dropout=0.0)
    third, _ = still.apply(
        variables, x, mutable=["batch_stats"], rngs={"dropout": jax.random.key(4)}
    )
    fourth, _ = still.apply(
        variables, x, mutable=["batch_stats"], rngs={"dropout": jax.random.key(5)}
    )
    np.testing.assert_array_equal(third, fourth)


def tiny(**overrides):
    config = jaxgan.base_config()
    config.family, config.dataset = "pix2pix", "paired:/data/facades"
    config.image_size, config.num_channels, config.batch_size = 32, 3, 2
    config.g_width = config.d_width = 4
    config.pix2pix_downs = 5
    config.num_train_steps, config.checkpoint_every_steps, config.log_every_steps = 4, 2, 2
    for name, value in overrides.items():
        config[name] = value
    return config


def test_the_losses_in_closed_form_for_a_generator_that_outputs_zero():
    config = tiny()
    nets = pix2pix.build(config)
    state = create_train_state(config, jax.random.key(0))
    params = {"g": dict(state.nets["g"].params), "d": state.nets["d"].params}
    params["g"]["up_0"] = jax.tree.map(jnp.zeros_like, params["g"]["up_0"])  # tanh(0) = 0
    rng = np.random.default_rng(0)
    a, b = (rng.uniform(-1, 1, (1, 2, 32, 32, 3)).astype(np.float32) for _ in range(2))
    context = Context(state, {"a": a, "b": b}, jax.random.key(1), 0, {})
    # Jitted, as in training: op by op, the U-Net and PatchGAN took most of this test's time.
    loss, aux = jax.jit(lambda p: pix2pix.g_loss(nets, config, p, context))(params)
    d = state.nets["d"]

    def d_logits(x):
        variables = {"params": d.params, **d.collections}
        return nets["d"].apply(variables, x, mutable=["batch_stats"])[0]

    logits = np.asarray(d_logits(np.concatenate([a[0], np.zeros_like(a[0])], -1)), np.float64)
    bce_real = np.mean(np.log1p(np.exp(-logits)))  # -log sigmoid(logit)
    np.testing.assert_allclose(aux.metrics["g_gan"], bce_real, rtol=1e-5)
    np.testing.assert_allclose(aux.metrics["g_l1"], 100 * np.mean(np.abs(b[0])), rtol=1e-6)
    np.testing.assert_allclose(loss, bce_real + 100 * np.mean(np.abs(b[0])), rtol=1e-5)
    state = state.with_net("g", state.nets["g"].replace(params=params["g"]))
    context = Context(state, {"a": a, "b": b}, jax.random.key(1), 0, {})
    d_loss, aux = jax.jit(lambda p: pix2pix.d_loss(nets, config, p, context))({"d": d.params})
    real = np.asarray(d_logits(np.concatenate([a[0], b[0]], -1)), np.float64)
    expected = 0.5 * (np.mean(np.log1p(np.exp(logits))) + np.mean(np.log1p(np.exp(-real))))
    np.testing.assert_allclose(d_loss, expected, rtol=1e-5)
    assert [phase.name for phase in pix2pix.phases(config, nets)] == ["d", "g"]


def save(path: pathlib.Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def make_aligned(root: pathlib.Path, counts=(4, 2)) -> pathlib.Path:
    """A|B images with B = 255 - A, so that every pair can be checked after crops."""
    rng = np.random.default_rng(0)
    for split, count in zip(("train", "test"), counts, strict=True):
        for i in range(count):
            a = rng.integers(0, 256, (36, 36, 3), np.uint8)
            save(root / split / f"{i}.png", np.concatenate([a, 255 - a], axis=1))
    return root


def test_aligned_pairs_split_into_halves_and_crop_together(tmp_path):
    config = tiny(dataset=f"paired:{make_aligned(tmp_path / 'data')}")
    dataset = datasets.load(config)
    assert dataset.paired and dataset.test_counterparts
    assert dataset.a.shape == (4, 36, 36, 3) and dataset.test_a.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(dataset.b, 255 - dataset.a)
    stream = pipeline.two_domain_batches(dataset, config, 0)
    for _ in range(3):
        batch = next(stream)
        np.testing.assert_allclose(batch["b"], -batch["a"], atol=1e-6)  # same crop, flip
    swapped = datasets.load(tiny(dataset=config.dataset, pix2pix_direction="BtoA"))
    np.testing.assert_array_equal(swapped.a, dataset.b)


def test_matched_folders_pair_by_name_and_refuse_a_missing_half(tmp_path):
    root = tmp_path / "data"
    rng = np.random.default_rng(1)
    for name in ("x.png", "y.png"):
        a = rng.integers(0, 256, (32, 32, 3), np.uint8)
        save(root / "trainA" / name, a)
        save(root / "trainB" / name, 255 - a)
    dataset = paired.load(str(root), tiny(translation_load_size=32))
    np.testing.assert_array_equal(dataset.b, 255 - dataset.a)
    save(root / "trainA" / "z.png", np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(UserError, match="trainA/z.png has no counterpart of the same name"):
        paired.load(str(root), tiny(translation_load_size=32))
    with pytest.raises(UserError, match="has neither train/"):
        paired.load(str(tmp_path), tiny())
    with pytest.raises(UserError, match="does not exist: give --config.dataset=paired:DIR"):
        paired.load(str(tmp_path / "facades"), tiny())


def test_pix2pix_needs_pairs():
    two = datasets.TwoDomains(*(np.zeros((1, 2, 2, 1), np.uint8) for _ in range(4)))
    with pytest.raises(UserError, match="learns from pairs of images"):
        validation.check_data_dim(tiny(), two)
    with pytest.raises(UserError, match="paired:PATH"):
        validation.check_data_dim(tiny(), datasets.Dataset(np.zeros((1, 2, 2, 1), np.uint8)))
    with pytest.raises(UserError, match="multiple of 32"):
        validation.check_family(tiny(image_size=48))


def test_a_tiny_pix2pix_trains_translates_and_is_scored(tmp_path):
    config = tiny(dataset=f"paired:{make_aligned(tmp_path / 'data')}")
    train.train_and_evaluate(config, tmp_path / "run")
    assert (tmp_path / "run" / "samples" / "step_4.png").is_file()
    save(tmp_path / "in" / "x.png", np.full((40, 70, 3), 50, np.uint8))
    written = translate.run(tmp_path / "run", tmp_path / "in", tmp_path / "out", tile=64, overlap=8)
    assert Image.open(written[0]).size == (70, 40)
    with pytest.raises(UserError, match="translates AtoB only"):
        translate.run(tmp_path / "run", tmp_path / "in", tmp_path / "out2", "BtoA")
    record = evaluation.evaluate_checkpoint(tmp_path / "run")
    assert record["mae_AtoB_identity"] == pytest.approx(
        np.mean(np.abs(datasets.load(config).test_a.astype(float) * 2 - 255)) / 255
    )
    assert 0 <= record["mae_AtoB"] <= 1 and "cycle_AtoB" not in record
