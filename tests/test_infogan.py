"""The networks of Lucic et al. 2018 (jaxgan/nn/models/infogan.py) and the study's config:
parameter counts from the study's layer list, TensorFlow's 'SAME' strided layers, the
uniform latent, the [0, 1] image range, and the per-loss settings."""

import functools
import json
import math
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import validation as config_validation
from jaxgan.config.loading import load_config
from jaxgan.metrics import evaluation, reference
from jaxgan.nn import layers, models
from jaxgan.objectives import losses, penalties
from jaxgan.runtime.errors import UserError
from jaxgan.training import state as train_state


def study_config(arg: str = "ns"):
    return load_config(f"configs/are_gans_created_equal.py:{arg}")


def count(tree) -> int:
    return sum(x.size for x in jax.tree.leaves(tree))


def test_parameter_counts_are_the_studys_layers():
    # Counted abstractly (jax.eval_shape): compiling the two states' creation took ~15 s.
    state = jax.eval_shape(lambda: train_state.create_train_state(study_config("ns")))
    # G: dense 64->1024 (+bias), BN 1024, dense 1024->6272 (+bias), BN 6272,
    # deconv 4x4 128->64 (+bias), BN 64, deconv 4x4 64->1 (+bias).
    g = (64 * 1024 + 1024) + 2 * 1024 + (1024 * 6272 + 6272) + 2 * 6272
    g += (16 * 128 * 64 + 64) + 2 * 64 + (16 * 64 + 1)
    assert count(state.g.params) == g == 6_642_241
    # D: conv 4x4 1->64, conv 4x4 64->128, BN 128, dense 6272->1024, BN 1024, dense 1024->1.
    d = (16 * 64 + 64) + (16 * 64 * 128 + 128) + 2 * 128 + (6272 * 1024 + 1024) + 2 * 1024
    d += 1024 + 1
    assert count(state.d.params) == d
    # WGAN-GP's D has no BatchNorm.
    no_bn = jax.eval_shape(lambda: train_state.create_train_state(study_config("wgan_gp")))
    assert count(no_bn.d.params) == d - 2 * 128 - 2 * 1024


def test_strided_layers_are_tensorflows_same_padding():
    rng = np.random.default_rng(0)
    for size in (28, 14):
        x = jnp.asarray(rng.normal(size=(2, size, size, 3)), jnp.float32)
        kernel = jnp.asarray(rng.normal(size=(4, 4, 3, 5)), jnp.float32)
        same = jax.lax.conv_general_dilated(
            x, kernel, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        ours = layers.DownsampleConv(5).apply({"params": {"kernel": kernel}}, x)
        np.testing.assert_allclose(ours, same, rtol=1e-5, atol=1e-5)
    # TensorFlow's conv2d_transpose(SAME) is the input gradient of conv2d(SAME) with its
    # filter (h, w, out, in); jaxgan's layer applies the spatially flipped, transposed
    # kernel.
    for size in (7, 14):
        x = jnp.asarray(rng.normal(size=(2, size, size, 3)), jnp.float32)
        tf_filter = jnp.asarray(rng.normal(size=(4, 4, 5, 3)), jnp.float32)

        def conv(y, tf_filter=tf_filter):
            return jax.lax.conv_general_dilated(
                y, tf_filter, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
            )

        _, pullback = jax.vjp(conv, jnp.zeros((2, 2 * size, 2 * size, 5)))
        (tensorflow,) = pullback(x)
        kernel = jnp.flip(tf_filter, (0, 1)).transpose(0, 1, 3, 2)
        ours = layers.UpsampleConvTranspose(5).apply({"params": {"kernel": kernel}}, x)
        np.testing.assert_allclose(ours, tensorflow, rtol=1e-5, atol=1e-5)


def test_latent_is_uniform_and_images_are_in_the_studys_range():
    config = study_config("ns")
    generator, discriminator = models.build(config)
    state = train_state.create_train_state(config)
    z = jax.random.normal(jax.random.key(0), (200_000,))
    u = np.asarray(jax.scipy.special.erf(z / math.sqrt(2.0)))
    # U[-1, 1]: deciles at -0.8, -0.6, ..., 0.8 (standard error of a decile ~0.0013).
    np.testing.assert_allclose(np.quantile(u, np.arange(1, 10) / 10), np.arange(-8, 9, 2) / 10,
                               atol=0.006)  # fmt: skip
    # G ends in 2 sigmoid(.) - 1: with its last layer zeroed, sigmoid(0) = 1/2 is the
    # jaxgan value 0 everywhere (a G ending in the sigmoid alone would give 0.5).
    g_params = jax.tree.map(lambda x: x, state.g.params)
    for name in ("UpsampleConvTranspose_1", "Bias_1"):
        g_params[name] = jax.tree.map(jnp.zeros_like, g_params[name])
    z = jax.random.normal(jax.random.key(1), (4, 64))
    images = generator.apply({"params": g_params, **state.g.collections}, z, train=False)
    assert images.shape == (4, 28, 28, 1)
    np.testing.assert_allclose(images, 0.0, atol=1e-7)

    # D works on [0, 1]: its first layer sees (x + 1) / 2, so a black image (-1) reaches it
    # as 0, and a D with an all-ones first kernel judges it as one with a zero kernel does.
    def judge(kernel_value, image):
        params = jax.tree.map(lambda x: x, state.d.params)
        first = params["DownsampleConv_0"]
        params["DownsampleConv_0"] = {"kernel": jnp.full_like(first["kernel"], kernel_value)}
        return discriminator.apply({"params": params, **state.d.collections}, image, train=False)

    black, white = -jnp.ones((2, 28, 28, 1)), jnp.ones((2, 28, 28, 1))
    np.testing.assert_allclose(judge(1.0, black), judge(0.0, white), rtol=1e-6)
    assert not np.allclose(judge(1.0, white), judge(0.0, white))


def test_least_squares_and_dragan_on_probabilities():
    real, fake = jnp.array([0.0, 2.0]), jnp.array([-1.0, 0.0])
    d_loss, g_loss = losses.least_squares_sigmoid(real, fake)
    s = lambda x: 1 / (1 + np.exp(-np.asarray(x)))  # noqa: E731
    assert float(d_loss) == pytest.approx(
        0.5 * np.mean((s(real) - 1) ** 2) + 0.5 * np.mean(s(fake) ** 2), rel=1e-6
    )
    assert float(g_loss) == pytest.approx(0.5 * np.mean((s(fake) - 1) ** 2), rel=1e-6)
    # A linear D(x) = w.x: the logit's input gradient is w, the probability's
    # sigmoid'(w.x) w, whose norm at x_hat is computed by hand below.
    w = jnp.array([[0.6, 0.8]])
    real = jnp.array([[1.0, 0.0], [0.0, 2.0]])
    key = jax.random.key(3)

    def d(x):
        return (x.reshape(x.shape[0], -1) @ w.T)[:, 0]

    noise_key, mix_key = jax.random.split(key)
    perturbed = real + 0.5 * jnp.std(real) * jax.random.uniform(noise_key, real.shape)
    alpha = jax.random.uniform(mix_key, (2, 1))
    points = alpha * real + (1 - alpha) * perturbed
    slope = s(d(points)) * (1 - s(d(points)))  # |grad| = slope * |w| = slope
    expected = np.mean((slope - 1) ** 2)
    assert float(penalties.dragan_sigmoid(d, real, None, key)) == pytest.approx(expected, rel=1e-5)
    assert float(penalties.dragan(d, real, None, key)) == pytest.approx(0.0, abs=1e-10)


def test_penalties_are_taken_in_the_models_image_range():
    # D(x) = w . u with u = (x + 1) / 2 the [0, 1] image and |w| = 1: its gradient is w in
    # [0, 1] (WGAN-GP's penalty 0) but w / 2 in [-1, 1] ((1/2 - 1)^2 = 1/4).
    w = jnp.array([0.6, 0.8])

    def d(x):
        return ((x.reshape(x.shape[0], -1) + 1.0) / 2.0) @ w

    real, fake = jnp.array([[0.5, -0.5], [1.0, 0.0]]), jnp.array([[-1.0, 1.0], [0.0, 0.2]])
    key = jax.random.key(0)
    assert float(penalties.wgan_gp(d, real, fake, key)) == pytest.approx(0.25)
    in_unit = penalties.in_range(penalties.wgan_gp, (0.0, 1.0), d, real, fake, key)
    assert float(in_unit) == pytest.approx(0.0, abs=1e-6)
    same = penalties.in_range(penalties.wgan_gp, (-1.0, 1.0), d, real, fake, key)
    assert float(same) == pytest.approx(0.25)
    assert models.image_range(study_config("wgan_gp")) == (0.0, 1.0)
    assert models.image_range(load_config("configs/dcgan.py")) == (-1.0, 1.0)


@pytest.mark.parametrize(
    "arg, expected",
    [
        ("mm", ("minimax", "none", 5e-5, 0.0, "batch_norm", 1, 15_625, 0.0)),
        ("ns", ("non_saturating", "none", 5e-5, 0.0, "batch_norm", 1, 15_625, 0.0)),
        ("lsgan", ("least_squares_sigmoid", "none", 2e-4, 0.5, "batch_norm", 1, 15_625, 0.0)),
        ("wgan", ("wasserstein", "none", 5e-5, 0.5, "batch_norm", 5, 3_125, 0.01)),
        ("wgan_gp", ("wasserstein", "wgan_gp", 1e-4, 0.5, "none", 5, 3_125, 0.0)),
        ("dragan,fashion_mnist", ("non_saturating", "dragan_sigmoid", 1e-4, 0.5, "batch_norm",
                                  1, 15_625, 0.0)),
    ],
)  # fmt: skip
def test_each_loss_has_the_studys_defaults(arg, expected):
    config = study_config(arg)
    config_validation.validate(config)
    got = (
        config.loss, config.penalty, config.d_learning_rate, config.d_beta1, config.d_norm,
        config.d_steps, config.num_train_steps, config.d_weight_clip,
    )  # fmt: skip
    assert got == expected
    assert config.g_learning_rate == config.d_learning_rate and config.g_beta1 == config.d_beta1
    assert (config.batch_size, config.latent_dim) == (64, 64)
    assert config.num_train_steps * config.d_steps == 15_625
    dataset = arg.partition(",")[2] or "mnist"
    assert (config.dataset, config.fid_reference) == (dataset, f"{dataset}:test")


def test_fid_reference_is_the_test_split():
    config = study_config("ns,fashion_mnist")
    reference_config = evaluation.reference_config(config)
    assert config.dataset == "fashion_mnist"  # the run's own config is untouched
    ref = reference.describe(reference_config, None, 10_000)
    assert (ref.dataset, ref.split, ref.num_images) == ("fashion_mnist", "test", 10_000)
    plain = study_config("ns")
    plain.fid_reference = ""
    assert evaluation.reference_config(plain) is plain


def test_bad_arguments_and_settings_are_refused():
    with pytest.raises(ValueError, match="LOSS\\[,DATASET\\]"):
        study_config("began")
    config = study_config("ns")
    config.image_size = 32
    with pytest.raises(UserError, match="28x28 grayscale"):
        config_validation.validate(config)
    config = study_config("ns")
    config.d_norm = "spectral_norm"
    with pytest.raises(UserError, match="d_norm in"):
        config_validation.validate(config)
    config = study_config("ns")
    config.fid_reference = "mnsit:test"
    with pytest.raises(UserError, match="names no dataset"):
        config_validation.validate(config)


def test_created_equal_table_takes_each_runs_best_checkpoint(tmp_path):
    from jaxgan.launch import created_equal

    def score(loss, seed, step, fid):
        run = tmp_path / "mnist" / loss / f"seed={seed}" / "eval"
        run.mkdir(parents=True, exist_ok=True)
        record = {"step": step, "num_samples": 10_000, "fid": fid}
        (run / f"metrics_{step}.json").write_text(json.dumps(record))

    score("ns", 0, 100, 12.0)
    score("ns", 0, 200, 10.0)  # seed 0's best
    score("ns", 1, 100, 20.0)
    score("ns", 1, 200, 14.0)
    score("wgan", 0, 200, 30.0)
    text = created_equal.table(tmp_path)
    lines = {line.split(" | ")[0]: line for line in text.splitlines()}
    # Seeds' bests 10 and 14: mean 12, sample std 2.83, best 10.
    assert lines["| NS GAN"] == "| NS GAN | 6.8 ± 0.5 | 12.0 ± 2.8 | 10.0 | 2 | 2 | 10000 |"
    assert lines["| WGAN"] == "| WGAN | 6.7 ± 0.4 | 30.0 ±— | 30.0 | 1 | 1 | 10000 |"
    assert lines["| MM GAN"] == "| MM GAN | 9.8 ± 0.9 | — | — | 0 | — | — |"
    assert "### fashion_mnist" not in text
    with pytest.raises(UserError, match="run launch/are_gans_created_equal.sh first"):
        created_equal.table(tmp_path / "missing")


# -- The study's step against a PyTorch reference ---------------------------------------------


def _torch_study_nets(torch, g_params, d_params, g_stats, d_stats):
    """The study's G and D in PyTorch (the layers of jaxgan/nn/models/infogan.py's
    docstring), holding jaxgan's parameters: Dense kernels transposed, convolution kernels
    HWIO -> OIHW, transposed-convolution kernels flipped as tests/test_layers.py derives,
    flattening in jaxgan's NHWC order, BatchNorm with epsilon 1e-3 and decay 0.999."""
    F = torch.nn.functional

    def tensor(a):
        return torch.tensor(np.ascontiguousarray(np.asarray(a, np.float32)))

    def set_(module, **values):
        with torch.no_grad():
            for name, value in values.items():
                getattr(module, name).copy_(tensor(value))
        return module

    def dense(p):
        return set_(torch.nn.Linear(*p["kernel"].shape), weight=p["kernel"].T, bias=p["bias"])

    def norm(cls, p, stats):
        module = cls(p["scale"].shape[0], eps=1e-3, momentum=0.001)
        set_(module, weight=p["scale"], bias=p["bias"])
        return set_(module, running_mean=stats["mean"], running_var=stats["var"])

    def conv(kernel, bias):
        module = torch.nn.Conv2d(kernel.shape[2], kernel.shape[3], 4, stride=2, padding=1)
        return set_(module, weight=np.transpose(kernel, (3, 2, 0, 1)), bias=bias)

    def deconv(kernel, bias):
        module = torch.nn.ConvTranspose2d(kernel.shape[2], kernel.shape[3], 4, stride=2, padding=1)
        return set_(module, weight=np.flip(kernel, (0, 1)).transpose(2, 3, 0, 1), bias=bias)

    p, s = g_params, g_stats
    g = torch.nn.ModuleDict({
        "dense0": dense(p["Dense_0"]),
        "norm0": norm(torch.nn.BatchNorm1d, p["BatchNorm_0"], s["BatchNorm_0"]),
        "dense1": dense(p["Dense_1"]),
        "norm1": norm(torch.nn.BatchNorm1d, p["BatchNorm_1"], s["BatchNorm_1"]),
        "deconv0": deconv(p["UpsampleConvTranspose_0"]["kernel"], p["Bias_0"]["bias"]),
        "norm2": norm(torch.nn.BatchNorm2d, p["BatchNorm_2"], s["BatchNorm_2"]),
        "deconv1": deconv(p["UpsampleConvTranspose_1"]["kernel"], p["Bias_1"]["bias"]),
    })  # fmt: skip
    p, s = d_params, d_stats
    d = torch.nn.ModuleDict({
        "conv0": conv(p["DownsampleConv_0"]["kernel"], p["Bias_0"]["bias"]),
        "conv1": conv(p["DownsampleConv_1"]["kernel"], p["Bias_1"]["bias"]),
        "norm0": norm(torch.nn.BatchNorm2d, p["BatchNorm_0"], s["BatchNorm_0"]),
        "dense0": dense(p["Dense_0"]),
        "norm1": norm(torch.nn.BatchNorm1d, p["BatchNorm_1"], s["BatchNorm_1"]),
        "dense1": dense(p["Dense_1"]),
    })  # fmt: skip

    def generate(z):
        x = torch.special.erf(z / math.sqrt(2.0))
        x = F.leaky_relu(g["norm0"](g["dense0"](x)), 0.2)
        x = F.leaky_relu(g["norm1"](g["dense1"](x)), 0.2)
        x = x.reshape(-1, 7, 7, 128).permute(0, 3, 1, 2)
        x = F.leaky_relu(g["norm2"](g["deconv0"](x)), 0.2)
        return 2.0 * torch.sigmoid(g["deconv1"](x)) - 1.0

    def discriminate(x):
        x = F.leaky_relu(d["conv0"]((x + 1.0) / 2.0), 0.2)
        x = F.leaky_relu(d["norm0"](d["conv1"](x)), 0.2)
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        x = F.leaky_relu(d["norm1"](d["dense0"](x)), 0.2)
        return d["dense1"](x)[:, 0]

    def to_jaxgan():
        """(G params, D params, G stats, D stats) in jaxgan's layout."""

        def a(t):
            return t.detach().numpy()

        def norm_(m):
            return {"scale": a(m.weight), "bias": a(m.bias)}, {
                "mean": a(m.running_mean), "var": a(m.running_var)
            }  # fmt: skip

        def dense_(m):
            return {"kernel": a(m.weight).T, "bias": a(m.bias)}

        def deconv_(m):
            return np.flip(a(m.weight).transpose(2, 3, 0, 1), (0, 1))

        (gn0, gs0), (gn1, gs1), (gn2, gs2) = (norm_(g[f"norm{i}"]) for i in range(3))
        (dn0, ds0), (dn1, ds1) = (norm_(d[f"norm{i}"]) for i in range(2))
        g_params = {
            "Dense_0": dense_(g["dense0"]), "BatchNorm_0": gn0,
            "Dense_1": dense_(g["dense1"]), "BatchNorm_1": gn1,
            "UpsampleConvTranspose_0": {"kernel": deconv_(g["deconv0"])},
            "Bias_0": {"bias": a(g["deconv0"].bias)}, "BatchNorm_2": gn2,
            "UpsampleConvTranspose_1": {"kernel": deconv_(g["deconv1"])},
            "Bias_1": {"bias": a(g["deconv1"].bias)},
        }  # fmt: skip
        d_params = {
            "DownsampleConv_0": {"kernel": a(d["conv0"].weight).transpose(2, 3, 1, 0)},
            "Bias_0": {"bias": a(d["conv0"].bias)},
            "DownsampleConv_1": {"kernel": a(d["conv1"].weight).transpose(2, 3, 1, 0)},
            "Bias_1": {"bias": a(d["conv1"].bias)}, "BatchNorm_0": dn0,
            "Dense_0": dense_(d["dense0"]), "BatchNorm_1": dn1, "Dense_1": dense_(d["dense1"]),
        }  # fmt: skip
        g_stats = {"BatchNorm_0": gs0, "BatchNorm_1": gs1, "BatchNorm_2": gs2}
        return g_params, d_params, g_stats, {"BatchNorm_0": ds0, "BatchNorm_1": ds1}

    return g, d, generate, discriminate, to_jaxgan


def test_non_saturating_step_matches_a_pytorch_reference():
    """One step of the study's NS setting (BatchNorm in G and D, separate real and fake
    passes of D, G's update on the same fakes against the updated D) in jaxgan and in
    PyTorch from the same parameters and draws, with plain SGD on both sides so each
    parameter's change is its gradient (Adam's first steps are nearly sign(g)).

    D's change is compared to 2%: at these parameters one of D's units sits 5.5e-6 from its
    leaky ReLU's kink on one fake, so float-level differences can flip it (moving the fakes
    by 1e-6 moved D's gradient by 1e-5 in two of three draws, by 0.5% in the third, all
    in that unit's weights). G's gradient moves 12% with that change of D, so G's update
    is taken against jaxgan's updated D in both, where they agree to 1e-4 (a G update
    against D as it was before its update fails by far). jaxgan runs G forward once a
    step, as pytorch/examples and this reference do; the study's TensorFlow code ran it
    again for G's update, moving G's running averages twice (eval-mode samples only)."""
    torch = pytest.importorskip("torch")
    import optax

    from jaxgan import families
    from jaxgan.training.step import make_step_function

    config = study_config("ns")
    learning_rate, batch_size = 0.05, 64
    family = families.of(config)
    sgd = optax.sgd(learning_rate)
    sgd_family = types.SimpleNamespace(
        phases=family.phases, optimizers=lambda c: {"g": sgd, "d": sgd}, ema_decays=lambda c: {}
    )
    state = train_state.create_train_state(config)
    for name in ("g", "d"):
        net = state.nets[name]
        state = state.with_net(name, net.replace(opt_state=sgd.init(net.params)))
    step = jax.jit(make_step_function(config, sgd_family, family.build(config)))
    numpy = functools.partial(jax.tree.map, np.asarray)

    def trees(state):
        g, d = state.nets["g"], state.nets["d"]
        return numpy(
            (g.params, d.params, g.collections["batch_stats"], d.collections["batch_stats"])
        )

    g0, d0, g_stats0, d_stats0 = trees(state)
    real = np.clip(np.random.default_rng(0).normal(0, 0.6, (1, batch_size, 28, 28, 1)), -1, 1)
    real = real.astype(np.float32)
    # The gan family's z for D's (only) update of step 0.
    key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
    z_key = jax.random.split(key, 3)[0]
    z = jax.random.normal(jax.random.fold_in(z_key, 0), (batch_size, config.latent_dim))
    state, metrics = step(state, {"image": jnp.asarray(real)})
    g1, d1, g_stats1, d_stats1 = trees(state)
    softplus = torch.nn.functional.softplus

    def torch_step(g_params, d_params, d_update: bool):
        g, d, generate, discriminate, to_jaxgan = _torch_study_nets(
            torch, g_params, d_params, g_stats0, d_stats0
        )
        fake = generate(torch.tensor(np.asarray(z)))
        d_loss = None
        if d_update:
            real_logits = discriminate(torch.tensor(real[0]).permute(0, 3, 1, 2))
            fake_logits = discriminate(fake.detach())
            d_loss = softplus(-real_logits).mean() + softplus(fake_logits).mean()
            d_loss.backward()
            torch.optim.SGD(d.parameters(), lr=learning_rate).step()
        g_loss = softplus(-discriminate(fake)).mean()
        g.zero_grad()
        g_loss.backward()
        torch.optim.SGD(g.parameters(), lr=learning_rate).step()
        return d_loss, g_loss, to_jaxgan()

    def flat(tree):
        return dict(jax.tree_util.tree_flatten_with_path(tree)[0])

    def compare(got, want, start, tolerance, pre_norm_biases):
        got_leaves = flat(got)
        for path, want_leaf in jax.tree_util.tree_flatten_with_path(want)[0]:
            where = jax.tree_util.keystr(path)
            got_change, want_change = got_leaves[path] - start[path], want_leaf - start[path]
            if where in pre_norm_biases:
                # A bias right before a BatchNorm: its gradient is exactly zero.
                assert np.abs(got_change).max() < 1e-6 and np.abs(want_change).max() < 1e-6
                continue
            error = np.linalg.norm(got_change - want_change) / np.linalg.norm(want_change)
            assert error < tolerance, (where, error)

    d_loss, _, (_, want_d1, want_g_stats, want_d_stats) = torch_step(g0, d0, d_update=True)
    np.testing.assert_allclose(metrics["d_loss"], d_loss.item(), rtol=1e-5)
    compare(d1, want_d1, flat(d0), 2e-2, ("['Bias_1']['bias']", "['Dense_0']['bias']"))
    # G's running averages: one forward pass of G, in train mode.
    for got, want in zip(jax.tree.leaves(g_stats1), jax.tree.leaves(want_g_stats), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # G's update against jaxgan's updated D, taken as PyTorch's D.
    _, g_loss, (want_g1, _, _, _) = torch_step(g0, d1, d_update=False)
    np.testing.assert_allclose(metrics["g_loss"], g_loss.item(), rtol=1e-5)
    g_pre_norm = ("['Dense_0']['bias']", "['Dense_1']['bias']", "['Bias_0']['bias']")
    compare(g1, want_g1, flat(g0), 1e-3, g_pre_norm)
    # D's running averages after its three passes (reals, fakes; fakes for G's update; the
    # last at PyTorch's own updated D here, which differs slightly).
    for got, want in zip(jax.tree.leaves(d_stats1), jax.tree.leaves(want_d_stats), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
