"""Conditional GANs: labels change G's and D's outputs in both forms, the projection
discriminator's decomposition, conditional BatchNorm, labels in the step and its
penalties, the number of classes from the dataset, and class-wise samples."""

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

import jaxgan
from jaxgan import sample
from jaxgan.config import validation as config_validation
from jaxgan.data.datasets import Dataset
from jaxgan.metrics import evaluation
from jaxgan.nn import conditioning, models
from jaxgan.nn.models import dcgan, mlp, resnet
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import restore as generate
from jaxgan.sampling import sampler as sampling
from jaxgan.training import loop as train
from jaxgan.training import workdir as workdir_lib
from jaxgan.training.state import create_train_state
from jaxgan.training.step import make_train_step
from jaxgan.training.workdir import FIELDS_OFF_WHEN_ABSENT
from tests.conftest import tiny

CLASSES = 10


def pair(model, form, norm="none"):
    """A small conditional (G, D, z shape, image shape) of a model module."""
    common = dict(num_classes=CLASSES, conditional_form=form, label_embedding_dim=4)
    if model is resnet:
        g = resnet.Generator(width=8, **common)
        return g, resnet.Discriminator(width=8, norm=norm, **common), (4, 16), (4, 32, 32, 3)
    if model is dcgan:
        common.update(image_size=28, num_channels=1, width=4)
        g, d = dcgan.Generator(**common), dcgan.Discriminator(norm=norm, **common)
    else:
        g, d = mlp.Generator(width=16, **common), mlp.Discriminator(width=8, **common)
    return g, d, (4, 16), (4, 28, 28, 1)


@pytest.mark.parametrize(
    "model,form",
    [(dcgan, "concat"), (dcgan, "projection"), (mlp, "concat")]
    + [pytest.param(resnet, form, marks=pytest.mark.slow) for form in ("concat", "projection")],
    ids=lambda value: getattr(value, "__name__", value).split(".")[-1],
)
def test_changing_only_a_label_changes_only_that_samples_output(model, form):
    g, d, z_shape, image_shape = pair(model, form, norm="batch_norm" if model is dcgan else "none")
    before, after = jnp.array([0, 1, 2, 3]), jnp.array([0, 1, 7, 3])  # sample 2 changes

    def init(module, x, key):
        # Perturbed, as after training: conditional BN starts alike for every class.
        variables = module.init(jax.random.key(key), x, before, train=False)
        leaves, tree = jax.tree.flatten(variables["params"])
        noisy = [
            p + 0.1 * jnp.sin(jnp.arange(p.size) + i).reshape(p.shape) for i, p in enumerate(leaves)
        ]
        return {**variables, "params": jax.tree.unflatten(tree, noisy)}

    @jax.jit
    def outputs(z, images):
        # Evaluation mode: BatchNorm uses running averages, so samples are independent.
        g_vars, d_vars = init(g, z, 1), init(d, images, 2)
        return [
            (g.apply(g_vars, z, y, train=False), d.apply(d_vars, images, y, train=False))
            for y in (before, after)
        ]

    z = jax.random.normal(jax.random.key(0), z_shape)
    images = jax.random.uniform(jax.random.key(3), image_shape, minval=-1, maxval=1)
    (g_before, d_before), (g_after, d_after) = outputs(z, images)
    for old, new in ((g_before, g_after), (d_before, d_after)):
        old, new = np.asarray(old), np.asarray(new)
        np.testing.assert_allclose(old[[0, 1, 3]], new[[0, 1, 3]], rtol=1e-5, atol=1e-6)
        assert np.abs(old[2] - new[2]).max() > 1e-2 * np.abs(old[2]).max()


def test_unconditional_models_refuse_labels_and_conditional_ones_need_them():
    z, labels = jnp.zeros((2, 16)), jnp.zeros((2,), jnp.int32)

    def init(module, *inputs):
        return jax.eval_shape(lambda *x: module.init(jax.random.key(0), *x), *inputs)

    with pytest.raises(ValueError, match="unconditional"):
        init(dcgan.Generator(image_size=28, num_channels=1, width=4), z, labels)
    with pytest.raises(ValueError, match=r"needs labels of shape \(2,\), got None"):
        init(mlp.Generator(width=4, num_classes=3), z)
    with pytest.raises(ValueError, match=r"got \(1,\)"):
        init(resnet.Discriminator(width=4, num_classes=3), jnp.zeros((2, 32, 32, 3)), labels[:1])


@pytest.mark.parametrize(
    "model", [pytest.param(dcgan, marks=pytest.mark.slow), resnet], ids=["dcgan", "resnet"]
)
def test_the_projection_discriminator_is_psi_of_phi_plus_embed_y_dot_phi(model):
    # Miyato & Koyama 2018, eq. 3: D(x, y) = psi(phi(x)) + embed(y) . phi(x), with psi
    # the last (linear) layer and phi(x) its input; checked against the parameters.
    _, d, _, image_shape = pair(model, "projection")
    images = jax.random.uniform(jax.random.key(3), image_shape, minval=-1, maxval=1)
    labels = jnp.array([0, 9, 4, 9])
    variables = jax.jit(functools.partial(d.init, train=False))(jax.random.key(2), images, labels)
    logits, captured = jax.jit(functools.partial(d.apply, train=False, mutable=["intermediates"]))(
        variables, images, labels
    )
    (phi,) = captured["intermediates"]["phi"]
    phi, params = np.asarray(phi), jax.device_get(variables["params"])
    embedding = params["Projection_0"]["Embed_0"]["embedding"]
    if model is dcgan:  # the last layer: a bias-free convolution over the whole map
        psi = phi @ params["Conv_0"]["kernel"].reshape(-1)
    else:
        psi = phi @ params["Dense_0"]["kernel"][:, 0] + params["Dense_0"]["bias"][0]
    expected = psi + np.sum(embedding[np.asarray(labels)] * phi, axis=1)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)
    assert np.abs(psi - expected).max() > 1e-3  # the class term is not negligible


def test_conditional_batch_norm_uses_per_class_scale_and_shift():
    layer = conditioning.ConditionalBatchNorm(num_classes=3)
    x = jax.random.normal(jax.random.key(0), (6, 2, 2, 4)) * 3 + 1
    labels = jnp.array([0, 2, 2, 1, 0, 1])
    variables = layer.init(jax.random.key(1), x, labels)
    rng = np.random.default_rng(0)
    scale, bias = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    params = {"scale": {"embedding": scale}, "bias": {"embedding": bias}}
    out, updates = layer.apply({**variables, "params": params}, x, labels, mutable=["batch_stats"])
    x = np.asarray(x)
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    normalized = (x - mean) / np.sqrt(var + 1e-5)  # statistics shared by every class
    expected = normalized * scale[labels][:, None, None] + bias[labels][:, None, None]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    # One set of running statistics (PyTorch's momentum 0.1 from zeros).
    (stats,) = updates["batch_stats"].values()
    np.testing.assert_allclose(stats["mean"], 0.1 * mean, rtol=1e-5)
    # Initially gamma = 1 and beta = 0 for every class: plain BatchNorm.
    np.testing.assert_allclose(
        layer.apply(variables, x, labels, mutable=["batch_stats"])[0], normalized, atol=1e-5
    )


def test_the_number_of_classes_comes_from_the_dataset():
    pixels = np.zeros((4, 28, 28, 1), np.uint8)
    labelled = Dataset(pixels, np.array([0, 1, 2, 1], np.int32), num_classes=3)
    config = tiny(conditional=True)
    resolved = conditioning.resolve_num_classes(config, labelled)
    assert resolved.num_classes == 3 and config.num_classes == 0
    assert conditioning.resolve_num_classes(tiny(), Dataset(pixels)).num_classes == 0
    with pytest.raises(UserError, match="needs labels.*'mnist' has none"):
        conditioning.resolve_num_classes(config, Dataset(pixels))
    with pytest.raises(UserError, match="num_classes=5 but the dataset 'mnist' has 3 classes"):
        conditioning.resolve_num_classes(tiny(conditional=True, num_classes=5), labelled)
    with pytest.raises(UserError, match="needs config.num_classes"):
        models.build(config)


@pytest.mark.parametrize(
    "overrides,expected",
    [
        (dict(model="mlp", conditional_form="projection"), r"mlp model supports.*\['concat'\]"),
        (dict(conditional_form="film"), "conditional_form must be one of"),
        (dict(num_classes=-1), "num_classes must be an integer >= 0"),
        (dict(label_embedding_dim=0), "label_embedding_dim must be positive"),
    ],
)
def test_bad_conditioning_settings_are_refused(overrides, expected):
    with pytest.raises(UserError, match=expected):
        config_validation.validate(tiny(conditional=True, **overrides))


def test_fake_labels_are_uniform_over_the_classes():
    labels = np.asarray(conditioning.fake_labels(jax.random.key(0), 20000, CLASSES))
    counts = np.bincount(labels, minlength=CLASSES)
    assert len(counts) == CLASSES and np.all(np.abs(counts - 2000) < 200)


def test_the_step_gives_d_the_real_labels_and_the_penalty_binds_them():
    config = tiny(
        model="mlp",
        g_width=16,
        d_width=8,
        d_norm="none",
        penalty="r1",
        conditional=True,
        num_classes=CLASSES,
    )
    step = make_train_step(config)
    images = np.random.default_rng(0).uniform(-1, 1, (1, 16, 28, 28, 1)).astype(np.float32)
    results = []
    for labels in (np.arange(16) % CLASSES, (np.arange(16) + 3) % CLASSES):
        batch = {"image": images, "label": labels[None].astype(np.int32)}
        state, metrics = step(create_train_state(config), batch)
        results.append((jax.device_get(state.d.params), metrics))
    (d_a, metrics_a), (d_b, metrics_b) = results
    assert all(np.isfinite(float(v)) for v in metrics_a.values())
    # Only the real labels differ: D's update, its real logits and the R1 penalty
    # (computed on the reals, with their labels) all change; the fakes' logits do not.
    assert not np.allclose(d_a["label_embedding"]["embedding"], d_b["label_embedding"]["embedding"])
    assert float(metrics_a["d_real_logit"]) != float(metrics_b["d_real_logit"])
    assert float(metrics_a["d_penalty"]) != float(metrics_b["d_penalty"])
    assert float(metrics_a["d_fake_logit"]) == float(metrics_b["d_fake_logit"])
    with pytest.raises(ValueError, match=r"batch\['label'\]"):
        step(create_train_state(config), {"image": images})


def test_the_sample_grid_has_one_row_per_class():
    inputs = sampling.grid_inputs(jax.random.key(0), tiny(conditional=True, num_classes=3))
    assert inputs.columns == 6  # ceil(16 / 3)
    np.testing.assert_array_equal(inputs.labels, np.repeat(np.arange(3), 6))
    assert inputs.z.shape == (18, 16)
    unconditional = sampling.grid_inputs(jax.random.key(0), tiny())
    assert unconditional.labels is None and unconditional.z.shape == (16, 16)
    np.testing.assert_array_equal(sampling.class_labels(jnp.arange(5), 3), [0, 1, 2, 0, 1])
    np.testing.assert_array_equal(sampling.class_labels(jnp.arange(3), 3, label=2), [2, 2, 2])


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    """A conditional MLP trained 2 steps on a 3-class npz, with num_classes from it."""
    root = tmp_path_factory.mktemp("conditional")
    rng = np.random.default_rng(0)
    np.savez(
        root / "data.npz",
        images=rng.integers(0, 256, (32, 28, 28), dtype=np.uint8),
        labels=rng.integers(0, 3, 32),
    )
    config = tiny(
        model="mlp",
        g_width=16,
        d_width=8,
        d_norm="none",
        conditional=True,
        num_train_steps=2,
        num_samples=8,
        dataset=f"npz:{root / 'data.npz'}",
    )
    train.train_and_evaluate(config, root / "run")
    return root / "run", config


def test_training_resolves_the_classes_and_draws_a_row_per_class(conditional_run):
    workdir, config = conditional_run
    assert json.loads((workdir / "config.json").read_text())["config"]["num_classes"] == 3
    grid = np.asarray(Image.open(workdir / "samples" / "step_2.png"))
    assert grid.shape == (3 * 30 + 2, 3 * 30 + 2)  # 3 classes of ceil(8 / 3) = 3 images
    # The same request (num_classes 0: the dataset's) resumes the run.
    train.train_and_evaluate(tiny(**{**config.to_dict(), "num_train_steps": 3}), workdir)
    unlabelled = workdir.parent / "unlabelled.npz"
    np.savez(unlabelled, images=np.zeros((32, 28, 28), np.uint8))
    other = workdir.parent / "other"
    with pytest.raises(UserError, match="needs labels"):
        train.train_and_evaluate(tiny(conditional=True, dataset=f"npz:{unlabelled}"), other)
    assert not other.exists()


def test_sample_label_and_every_class_in_turn(conditional_run, tmp_path):
    workdir, _ = conditional_run
    one = np.load(sample.run(workdir, tmp_path / "a.npz", num=4, label=2, batch_size=4))
    every = np.load(sample.run(workdir, tmp_path / "b.npz", num=4, batch_size=4))
    assert one["images"].shape == every["images"].shape == (4, 28, 28, 1)
    # The .npz says each image's class, for `evaluate --fake`'s class accuracy.
    np.testing.assert_array_equal(one["labels"], [2, 2, 2, 2])
    np.testing.assert_array_equal(every["labels"], [0, 1, 2, 0])
    # Image 2 has latent 2 in both, and class 2 (2 mod 3) by default: the same image.
    np.testing.assert_array_equal(one["images"][2], every["images"][2])
    assert not np.array_equal(one["images"][0], every["images"][0])  # class 2 vs class 0
    # The evaluation's sampler (no labels of its own) draws every class in turn.
    restored = generate.restore_generator(workdir)
    scored = evaluation.generated_batches(
        restored.config, restored.generator, restored.net, num=4, batch_size=4, step=2
    )
    assert next(scored).shape == (4, 28, 28, 1)
    grid = np.asarray(Image.open(sample.run(workdir, tmp_path / "g.png", num=6, grid=True)))
    assert grid.shape == (2 * 30 + 2, 3 * 30 + 2)  # one column per class
    for options, expected in [
        (dict(label=3), r"--label must be a class in \[0, 2\]"),
        (dict(interpolate=True, num=3), "--interpolate of a conditional run needs --label"),
    ]:
        with pytest.raises(UserError, match=expected):
            sample.run(workdir, tmp_path / "bad.npz", **{"num": 2, **options})


def test_a_workdir_written_before_conditioning_existed_reads_as_unconditional(tmp_path):
    config = tiny()
    stored = {k: v for k, v in config.to_dict().items() if k not in FIELDS_OFF_WHEN_ABSENT}
    # A workdir of this jaxgan version (another's is refused by its version first).
    record = {"config": stored, "jaxgan_version": jaxgan.__version__}
    (tmp_path / "config.json").write_text(json.dumps(record))
    read = workdir_lib.read_config(tmp_path)
    assert read.to_dict() == config.to_dict()
    workdir_lib.check(tmp_path, config)  # the same run: resumable
    # and taken as it is, not moved aside as another config's, although it saved nothing.
    assert workdir_lib.create(tmp_path, config) is None
    assert not list(tmp_path.glob("superseded-*"))
    written = json.loads((tmp_path / "config.json").read_text())["config"]
    (tmp_path / "config.json").write_text(json.dumps(record))
    assert written == config.to_dict()
    # With a checkpoint (a run that saved none would be moved aside), another config is
    # refused, and the missing field counts as the old behaviour.
    (tmp_path / "checkpoints" / "2").mkdir(parents=True)
    with pytest.raises(UserError, match="conditional: workdir has False, requested True"):
        workdir_lib.check(tmp_path, tiny(conditional=True))
