"""The stabilization toolkit: each remedy's mathematics, and every combination runs."""

import itertools
import math
import warnings

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.config import validation as config_validation
from jaxgan.nn import minibatch, normalization
from jaxgan.objectives import losses, penalties
from jaxgan.runtime.errors import UserError
from jaxgan.training.state import create_train_state
from jaxgan.training.step import ema_update, make_train_step
from tests.conftest import tiny

REAL = jnp.array([2.0, -1.0])
FAKE = jnp.array([0.5, -3.0])


# --- Losses -------------------------------------------------------------------------


def test_wasserstein_hinge_least_squares_by_hand():
    d, g = losses.wasserstein(REAL, FAKE)
    np.testing.assert_allclose([d, g], [(0.5 - 3) / 2 - (2 - 1) / 2, -(0.5 - 3) / 2])
    d, g = losses.hinge(REAL, FAKE)
    # relu(1-2)=0, relu(1+1)=2 -> 1;  relu(1+0.5)=1.5, relu(1-3)=0 -> 0.75
    np.testing.assert_allclose([d, g], [1.0 + 0.75, 1.25])
    d, g = losses.least_squares(REAL, FAKE)
    np.testing.assert_allclose(
        [d, g], [0.5 * (1 + 4) / 2 + 0.5 * (0.25 + 9) / 2, 0.5 * (0.25 + 16) / 2]
    )


def test_one_sided_label_smoothing_changes_only_the_real_term():
    d_smooth, g_smooth = losses.get("non_saturating", 0.9)(REAL, FAKE)
    d_plain, g_plain = losses.non_saturating(REAL, FAKE)
    real_term = lambda t: np.mean(  # noqa: E731
        [
            -t * math.log(1 / (1 + math.exp(-r))) - (1 - t) * math.log(1 - 1 / (1 + math.exp(-r)))
            for r in (2.0, -1.0)
        ]
    )
    np.testing.assert_allclose(d_smooth - d_plain, real_term(0.9) - real_term(1.0), rtol=1e-5)
    assert g_smooth == g_plain
    # The smoothed D loss is minimised at D(x) = 0.9, i.e. logit log 9.
    logit = jnp.log(9.0)
    grad = jax.grad(lambda r: losses.get("non_saturating", 0.9)(r, FAKE)[0])(jnp.full(2, logit))
    np.testing.assert_allclose(grad, 0.0, atol=1e-6)
    with pytest.raises(UserError, match="label smoothing"):
        losses.get("hinge", 0.9)


# --- Penalties ----------------------------------------------------------------------


def linear_d(w):
    return lambda x: x.reshape(x.shape[0], -1) @ w


@pytest.mark.parametrize("name", ["wgan_gp", "dragan"])
def test_one_centered_penalties_on_a_linear_critic(name):
    # D(x) = <w, x> has gradient w everywhere: the penalty is (||w|| - 1)^2, and its
    # gradient with respect to w is 2 (||w|| - 1) w / ||w||.
    w = jnp.array([3.0, 4.0, 0.0, 0.0])
    real = jax.random.normal(jax.random.key(0), (5, 2, 2, 1))
    fake = jax.random.normal(jax.random.key(1), (5, 2, 2, 1))
    fn = penalties.get(name)
    value = fn(linear_d(w), real, fake, jax.random.key(2))
    np.testing.assert_allclose(value, (5.0 - 1.0) ** 2, rtol=1e-5)
    grad = jax.grad(lambda w: fn(linear_d(w), real, fake, jax.random.key(2)))(w)
    np.testing.assert_allclose(grad, 2 * (5 - 1) * w / 5, rtol=1e-5)


def test_r1_on_a_quadratic_critic():
    # D(x) = 1/2 a ||x||^2 has gradient a x: R1 = 1/2 a^2 E||x||^2, zero for the fakes.
    real = jax.random.normal(jax.random.key(0), (6, 3))
    a = 1.5
    d = lambda x: 0.5 * a * jnp.sum(x**2, axis=1)  # noqa: E731
    value = penalties.r1(d, real, real * 100, jax.random.key(1))
    expected = 0.5 * a**2 * np.mean(np.sum(np.asarray(real) ** 2, axis=1))
    np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_wgan_gp_interpolates_between_real_and_fake():
    # D(x) = 1/2 ||x||^2: the gradient at x_hat is x_hat, so the penalty reveals where
    # x_hat lies. With real = 0 and fake = 2 (per coordinate), x_hat = 2 (1 - e).
    real, fake = jnp.zeros((4000, 1)), jnp.full((4000, 1), 2.0)
    d = lambda x: 0.5 * jnp.sum(x**2, axis=1)  # noqa: E731
    value = penalties.wgan_gp(d, real, fake, jax.random.key(0))
    # E[(|2(1-e)| - 1)^2] for e ~ U[0,1] = E[(2u - 1)^2] = 1/3.
    np.testing.assert_allclose(value, 1 / 3, rtol=0.03)


def test_penalty_names():
    assert penalties.available() == ["none", "dragan", "dragan_sigmoid", "r1", "wgan_gp"]
    assert penalties.get("none") is None
    with pytest.raises(UserError, match="unknown penalty"):
        penalties.get("gp")


# --- Spectral normalization ---------------------------------------------------------


@pytest.mark.parametrize(
    "make_layer,x_shape",
    [(lambda: nn.Dense(7), (2, 5)), (lambda: nn.Conv(6, (3, 3)), (2, 8, 8, 4))],
    ids=["dense", "conv"],
)
def test_spectral_norm_sigma_converges_to_the_largest_singular_value(make_layer, x_shape):
    class Net(nn.Module):
        @nn.compact
        def __call__(self, x, train):
            return normalization.weighted(make_layer(), "spectral_norm", train)(x)

    net = Net()
    x = jnp.ones(x_shape)
    variables = net.init(jax.random.key(0), x, train=False)

    @jax.jit
    def power_step(variables):
        _, updates = net.apply(variables, x, train=True, mutable=["batch_stats"])
        return {**variables, **updates}

    for _ in range(60):
        variables = power_step(variables)
    kernel = next(np.asarray(w) for w in jax.tree.leaves(variables["params"]) if w.ndim > 1)
    sigma_true = np.linalg.norm(kernel.reshape(-1, kernel.shape[-1]), 2)
    sigma = [
        v
        for k, v in jax.tree_util.tree_leaves_with_path(variables["batch_stats"])
        if "sigma" in jax.tree_util.keystr(k)
    ][0]
    np.testing.assert_allclose(float(sigma), sigma_true, rtol=1e-4)
    # In evaluation the layer computes with W / sigma, frozen: W / sigma_true here.
    kernel_only = jax.tree.map(lambda w: w / sigma_true if w.ndim > 1 else w, variables["params"])
    expected = make_layer().apply({"params": next(iter(kernel_only.values()))}, x)
    np.testing.assert_allclose(net.apply(variables, x, train=False), expected, rtol=1e-4, atol=1e-5)


# --- Mini-batch layers ----------------------------------------------------------------


def test_minibatch_discrimination_matches_the_papers_sum():
    layer = minibatch.MinibatchDiscrimination(kernels=3, kernel_dim=2)
    f = jax.random.normal(jax.random.key(0), (4, 5))
    params = layer.init(jax.random.key(1), f)
    out = np.asarray(layer.apply(params, f))
    t = np.asarray(params["params"]["T"]).reshape(5, 3, 2)
    m = np.einsum("na,abc->nbc", np.asarray(f), t)
    expected = np.zeros((4, 3))
    for i, j, b in itertools.product(range(4), range(4), range(3)):
        expected[i, b] += math.exp(-np.abs(m[i, b] - m[j, b]).sum())
    np.testing.assert_allclose(out[:, :5], f, rtol=1e-6)
    np.testing.assert_allclose(out[:, 5:], expected, rtol=1e-5)
    assert np.all(out[:, 5:] >= 1.0)  # the j = i term contributes exp(0) = 1


def test_minibatch_stddev_matches_numpy():
    x = np.asarray(jax.random.normal(jax.random.key(0), (8, 3, 3, 2)))
    out = np.asarray(minibatch.MinibatchStddev(group_size=4).apply({}, jnp.asarray(x)))
    assert out.shape == (8, 3, 3, 3)
    np.testing.assert_allclose(out[..., :2], x)
    groups = x.reshape(4, 2, 3, 3, 2)  # sample i is in group i mod 2
    per_group = np.sqrt(groups.var(axis=0) + 1e-8).mean(axis=(1, 2, 3))
    for i in range(8):
        np.testing.assert_allclose(out[i, ..., 2], per_group[i % 2], rtol=1e-5)


# --- EMA ------------------------------------------------------------------------------


def test_ema_update_closed_form():
    average, target = {"w": jnp.array([0.0, 10.0])}, {"w": jnp.array([1.0, -1.0])}
    for _ in range(5):
        average = ema_update(average, target, 0.9)
    # a_n = p + decay^n (a_0 - p)
    np.testing.assert_allclose(
        average["w"],
        np.array([1.0, -1.0]) + 0.9**5 * (np.array([0.0, 10.0]) - [1.0, -1.0]),
        rtol=1e-5,
    )


def test_ema_in_the_step():
    config = tiny(g_ema_decay=0.9)
    state = create_train_state(config)
    initial = jax.device_get(state.g.params)
    batch = {"image": np.zeros((1, 16, 28, 28, 1), np.float32)}
    new_state, _ = make_train_step(config)(state, batch)
    expected = jax.tree.map(
        lambda a, p: 0.9 * a + 0.1 * p, initial, jax.device_get(new_state.g.params)
    )
    chex.assert_trees_all_close(jax.device_get(new_state.g_ema), expected, rtol=1e-6)


def test_ema_collections_average_batchnorm_and_spectral_norm_state_by_the_same_decay():
    """config.ema_collections (BigGAN-PyTorch's ema over every buffer): the average of
    G's collections follows a <- d a + (1 - d) live after each step, from the initial
    collections; sampling then uses it. Off (the default) the state keeps none."""
    from jaxgan import families
    from jaxgan.sampling import restore
    from jaxgan.training.state import collections_key

    config = tiny(g_ema_decay=0.5, ema_collections=True, g_spectral_norm=True)
    state = create_train_state(config)
    key = collections_key("g")
    expected = jax.device_get(state.g.collections)
    assert set(expected) == {"batch_stats"}  # BatchNorm statistics and SN's u, sigma
    chex.assert_trees_all_equal(jax.device_get(state.ema[key]), expected)
    step, rng = make_train_step(config), np.random.default_rng(0)
    for _ in range(3):
        images = rng.uniform(-1, 1, (1, 16, 28, 28, 1)).astype(np.float32)
        state, _ = step(state, {"image": images})
        live = jax.device_get(state.g.collections)
        expected = jax.tree.map(lambda a, p: 0.5 * a + 0.5 * p, expected, live)
    chex.assert_trees_all_close(jax.device_get(state.ema[key]), expected, rtol=1e-6, atol=1e-7)
    leaves = jax.tree.leaves(jax.tree.map(lambda a, b: np.abs(a - b).max(), expected, live))
    assert max(leaves) > 1e-3  # the average is not the live statistics
    family = families.of(config)
    net = restore.generator_net(state, config, family, family.build(config)["g"])
    chex.assert_trees_all_equal(net.collections, state.ema[key])
    assert set(create_train_state(tiny(g_ema_decay=0.5)).ema) == {"g"}


# --- Unrolling ------------------------------------------------------------------------


def run_steps(config, steps=2):
    state = create_train_state(config)
    step = make_train_step(config)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        images = rng.uniform(-1, 1, (config.d_steps, 16, 28, 28, 1)).astype(np.float32)
        state, _ = step(state, {"image": images})
    return jax.device_get(state)


def test_unrolling_tends_to_the_plain_step_as_the_unrolled_steps_vanish():
    # Tiny D steps make the unrolled D equal to the current one: same G update.
    common = dict(model="mlp", g_width=32, d_width=16, d_norm="none", optimizer="rmsprop")
    plain = run_steps(tiny(**common, d_learning_rate=1e-9))
    unrolled = run_steps(tiny(**common, d_learning_rate=1e-9, unroll_steps=3))
    chex.assert_trees_all_close(plain.g.params, unrolled.g.params, atol=1e-6, rtol=1e-5)
    # At a real learning rate the look-ahead changes G's update.
    plain = run_steps(tiny(**common, d_learning_rate=1e-2))
    unrolled = run_steps(tiny(**common, d_learning_rate=1e-2, unroll_steps=3))
    difference = max(
        jax.tree.leaves(
            jax.tree.map(
                lambda a, b: float(np.max(np.abs(a - b))), plain.g.params, unrolled.g.params
            )
        )
    )
    assert difference > 1e-4
    # D's own update in a step does not depend on unrolling (after a step, it would: D
    # then trains against a different G).
    plain = run_steps(tiny(**common, d_learning_rate=1e-2), steps=1)
    unrolled = run_steps(tiny(**common, d_learning_rate=1e-2, unroll_steps=3), steps=1)
    chex.assert_trees_all_close(plain.d.params, unrolled.d.params, atol=1e-6, rtol=1e-5)


def test_first_order_unrolling_differentiates_only_the_unrolled_d_judgement():
    """unrolled_second_order=False: the unrolled D steps are taken on the fakes as
    constants, and G's gradient is that of its loss at that fixed unrolled D (reference
    below). With the second-order term (the default) the gradient is another one."""
    import optax

    from jaxgan import families
    from jaxgan.families import Context, gan
    from jaxgan.launch import unrolled_gradients
    from jaxgan.training.state import unrolled_d_optimizer
    from jaxgan.training.step import run_phase

    common = dict(model="mlp", g_width=16, d_width=8, d_norm="none", unroll_steps=3)
    config = tiny(**common, d_learning_rate=1e-2, unrolled_second_order=False)
    config_validation.validate(config)
    family, nets = families.of(config), families.of(config).build(config)
    state = create_train_state(config)
    real = np.random.default_rng(0).uniform(-1, 1, (1, 16, 28, 28, 1)).astype(np.float32)
    batch, key = {"image": jnp.asarray(real)}, jax.random.key(3)
    first_order = gan.Objectives(config, nets)
    d_phase = gan.phases(config, nets, first_order)[0]
    state, _, handoff = run_phase(d_phase, family.optimizers(config), state, batch, key, {})
    context = Context(state, batch, key, 0, handoff)
    params = {"g": state.nets["g"].params}

    def generate(p):
        return first_order.generate(p["g"], handoff["g_collections_before"], handoff["z"], None)[0]

    # The reference: unroll D on the fakes as numbers, then differentiate G's loss at it.
    keys, d, tx = gan.Keys(key), state.nets["d"], unrolled_d_optimizer(config)
    fakes, d_params, opt_state = generate(params), d.params, d.opt_state
    for k in range(3):
        rngs = (jax.random.fold_in(keys.unroll, k), jax.random.fold_in(keys.unroll_augment, k))
        grads, _ = jax.grad(first_order.d_objective, has_aux=True)(
            d_params, d.collections, batch["image"][-1], fakes, (None, None), rngs
        )
        updates, opt_state = tx.update(grads, opt_state, d_params)
        d_params = optax.apply_updates(d_params, updates)

    def reference(p):
        fake = generate(p)
        logits, _ = first_order.discriminate(d_params, d.collections, fake, None, keys.g_augment)
        return first_order.loss_fn(handoff["real_logits"], logits)[1]

    def g_gradient(objectives):
        return jax.grad(lambda p: gan.unrolled_g_loss(objectives, p, context)[0])(params)

    got = g_gradient(first_order)
    chex.assert_trees_all_close(got, jax.grad(reference)(params), atol=1e-6, rtol=1e-5)
    second_order = g_gradient(gan.Objectives(tiny(**common, d_learning_rate=1e-2), nets))
    got, second_order = unrolled_gradients.flat(got), unrolled_gradients.flat(second_order)
    assert float(jnp.linalg.norm(got - second_order)) > 1e-3 * float(jnp.linalg.norm(got))


def test_unrolled_gradients_tool_splits_the_second_order_part(tiny_run, capsys):
    """python -m jaxgan.launch.unrolled_gradients: with vanishing D steps the three
    gradients are the plain one; at a real rate the second-order part is not 0. A run
    that does not unroll is refused."""
    import functools

    from jaxgan import families
    from jaxgan.families import Context, gan
    from jaxgan.launch import unrolled_gradients
    from jaxgan.sampling.restore import Restored
    from jaxgan.training.step import run_phase

    common = dict(model="mlp", g_width=32, d_width=16, d_norm="none", optimizer="rmsprop")
    real = np.random.default_rng(0).uniform(-1, 1, (1, 16, 28, 28, 1)).astype(np.float32)
    batch, key = {"image": jnp.asarray(real)}, jax.random.key(0)

    def gradients(d_learning_rate):
        config = tiny(**common, unroll_steps=3, d_learning_rate=d_learning_rate)
        family = families.of(config)
        restored = Restored(config, 0, family, family.build(config), create_train_state(config))
        measure = jax.jit(functools.partial(unrolled_gradients.gradients, restored))
        return restored, measure(restored.state, batch, key)

    def distance(a, b):
        return float(jnp.linalg.norm(a - b) / jnp.linalg.norm(b))

    _, grads = gradients(1e-12)
    for way in ("first order", "second order"):
        np.testing.assert_allclose(grads[way], grads["no unrolling"], rtol=1e-4, atol=1e-6)
    restored, grads = gradients(1e-2)
    assert distance(grads["second order"], grads["first order"]) > 1e-3
    assert distance(grads["first order"], grads["no unrolling"]) > 1e-3
    # "no unrolling" is the plain step's gradient, which the step takes another way (G's
    # VJP at the fakes of D's update).
    config, nets = restored.config, restored.nets
    plain = gan.Objectives(tiny(**common, d_learning_rate=1e-2), nets)
    d_phase = gan.phases(config, nets, plain)[0]
    state, _, handoff = run_phase(
        d_phase, restored.family.optimizers(config), restored.state, batch, key, {}
    )
    params = {"g": state.nets["g"].params}
    _, expected = gan.fused_g_gradients(plain, params, Context(state, batch, key, 0, handoff))
    flat = unrolled_gradients.flat(expected)
    np.testing.assert_allclose(grads["no unrolling"], flat, rtol=1e-4, atol=1e-6)
    assert "second-order part" in unrolled_gradients.report(grads)

    for argv, message in (
        ([str(tiny_run)], "not an unrolled GAN run"),
        ([str(tiny_run), "last"], "STEP must be an integer >= 0, got 'last'"),
        ([str(tiny_run), "1", "0"], "N (batches) must be an integer >= 1"),
    ):
        with pytest.raises(SystemExit) as stopped:
            unrolled_gradients.main(argv)
        assert stopped.value.code == 2
        assert message in capsys.readouterr().err


# --- Every combination runs (the compare_gan habit) -----------------------------------

LOSSES = ["minimax", "non_saturating", "wasserstein", "hinge", "least_squares"]
PENALTIES = ["none", "wgan_gp", "r1", "dragan"]
NORMS = ["none", "batch_norm", "layer_norm", "spectral_norm"]


# Every pair of (loss, penalty), (loss, norm) and (penalty, norm) appears in these 20;
# the full 80-way product runs with --runslow.
PAIRWISE = [
    (loss, penalty, NORMS[(i + j) % len(NORMS)])
    for i, loss in enumerate(LOSSES)
    for j, penalty in enumerate(PENALTIES)
]
FULL = [
    pytest.param(*combination, marks=pytest.mark.slow)
    for combination in itertools.product(LOSSES, PENALTIES, NORMS)
    if combination not in PAIRWISE
]


@pytest.mark.parametrize("loss,penalty,norm", PAIRWISE + FULL)
def test_every_loss_penalty_and_norm_trains(loss, penalty, norm):
    config = tiny(
        model="mlp",
        g_width=16,
        d_width=8,
        loss=loss,
        penalty=penalty,
        d_norm=norm,
        penalty_weight=1.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config_validation.validate(config)
    state = run_steps(config, steps=1)
    assert int(state.step) == 1
    leaves = jax.tree.leaves(state)
    assert all(np.all(np.isfinite(x)) for x in leaves if np.issubdtype(x.dtype, np.floating))


def test_penalty_with_batch_norm_warns():
    with pytest.warns(UserWarning, match="ill-defined"):
        config_validation.warn_about_combinations(tiny(penalty="wgan_gp", d_norm="batch_norm"))


# --- The paper configs ------------------------------------------------------------------

CONFIGS = [
    "configs/wgan.py",
    "configs/wgan_gp.py",
    "configs/lsgan.py",
    "configs/dragan.py",
    "configs/sngan.py",
    "configs/sngan.py:32",
    "configs/unrolled_gan.py",
    "configs/minibatch_discrimination.py",
    "configs/minibatch_discrimination.py:stddev",
]


@pytest.mark.parametrize("spec", CONFIGS)
def test_paper_configs_validate_and_take_a_step(spec):
    from jaxgan.config.loading import load_config

    config = load_config(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the paper settings raise no combination warning
        config_validation.validate(config)
        config_validation.warn_about_combinations(config)
    for name, value in dict(
        g_width=8,
        d_width=8,
        latent_dim=16,
        batch_size=16,
        minibatch_kernels=4,
        d_steps=min(config.d_steps, 2),
        unroll_steps=min(config.unroll_steps, 1),
    ).items():
        config[name] = value
    state = create_train_state(config)
    shape = (config.d_steps, 16, config.image_size, config.image_size, config.num_channels)
    images = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    state, metrics = make_train_step(config)(state, {"image": images})
    assert all(np.isfinite(float(v)) for v in metrics.values())


@pytest.mark.parametrize(
    "make_layer,x_shape",
    [
        (lambda init: nn.Dense(7, kernel_init=init), (2, 5)),
        (lambda init: nn.Conv(6, (3, 3), kernel_init=init), (2, 8, 8, 4)),
    ],
    ids=["dense", "conv"],
)
def test_spectral_norm_stores_the_initialisers_raw_weight_and_normalises_it_when_called(
    make_layer, x_shape
):
    """The references keep the raw draw (PyTorch's weight_orig); Flax's own wrapper
    would store it divided by a first sigma estimate. The call divides by sigma."""
    drawn = {}

    def init(key, shape, dtype=jnp.float32):
        # The same draw each time: Flax may run the initialiser more than once.
        drawn["kernel"] = np.random.default_rng(1).normal(0.0, 0.02, shape).astype(np.float32)
        return jnp.asarray(drawn["kernel"])

    class Net(nn.Module):
        @nn.compact
        def __call__(self, x, train):
            return normalization.weighted(make_layer(init), "spectral_norm", train)(x)

    net, x = Net(), jnp.asarray(np.random.default_rng(0).normal(size=x_shape), jnp.float32)
    variables = net.init(jax.random.key(0), x, train=True)
    (kernel,) = [w for w in jax.tree.leaves(variables["params"]) if w.ndim > 1]
    np.testing.assert_array_equal(np.asarray(kernel), drawn["kernel"])
    # No power iteration at initialisation: sigma is still its initial 1.
    sigmas = [
        float(v)
        for k, v in jax.tree_util.tree_leaves_with_path(variables["batch_stats"])
        if "sigma" in jax.tree_util.keystr(k)
    ]
    assert sigmas == [1.0]
    # A training call: the layer applied with kernel / sigma, sigma from one power step.
    out, updates = net.apply(variables, x, train=True, mutable=["batch_stats"])
    (sigma,) = [
        v
        for k, v in jax.tree_util.tree_leaves_with_path(updates["batch_stats"])
        if "sigma" in jax.tree_util.keystr(k)
    ]
    assert 0.5 * np.linalg.norm(drawn["kernel"].reshape(-1, kernel.shape[-1]), 2) < sigma
    plain = make_layer(lambda *_: jnp.asarray(drawn["kernel"]) / sigma)
    expected = plain.apply(plain.init(jax.random.key(1), x), x)
    np.testing.assert_allclose(np.asarray(out), np.asarray(expected), rtol=1e-5, atol=1e-6)


def test_ema_collections_without_an_average_is_refused():
    from jaxgan.config import validation

    with pytest.raises(UserError, match="averages none: set g_ema_decay > 0") as error:
        validation.validate(tiny(ema_collections=True))
    assert "\n" not in str(error.value)
    validation.validate(tiny(ema_collections=True, g_ema_decay=0.9))


def test_spectrally_normalised_parameters_stay_float32_under_bfloat16_compute():
    """Flax's wrapper stored W/sigma in the layer's (bfloat16) dtype at initialisation;
    the raw initial weight keeps the parameter dtype, float32, like every other one."""
    config = tiny(compute_dtype="bfloat16", d_norm="spectral_norm", g_spectral_norm=True)
    state = create_train_state(config)
    dtypes = {leaf.dtype for leaf in jax.tree.leaves((state.g.params, state.d.params))}
    assert dtypes == {jnp.dtype(jnp.float32)}
