"""Flax NNX nets through jaxgan.make_train_step (jaxgan/nn/nnx_bridge.py): an NNX DCGAN
trains, its step is the NNX models' own update, it resumes bit for bit from a
checkpoint, the bridged net is the NNX module (BatchNorm, SpectralNorm), and state
jaxgan cannot thread is refused with one clear error."""

import functools
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import jaxgan
from jaxgan.nn.nnx_bridge import from_nnx, to_nnx
from jaxgan.runtime.errors import UserError
from jaxgan.training import checkpoints
from tests.conftest import tiny

WIDTH, LATENT = 8, 16


def dcgan_init(key, shape, dtype=jnp.float32):
    """N(0, 0.02), DCGAN's weights, drawn flat: XLA:CPU takes seconds to compile a draw
    of a 4-D shape (jax 0.10), which every conv kernel of an eagerly built net would pay."""
    return 0.02 * jax.random.normal(key, (math.prod(shape),), dtype).reshape(shape)


class Generator(nnx.Module):
    """DCGAN's G at 28x28x1: z -> 7x7x16 -> 14x14x8 -> 28x28x1, BatchNorm + ReLU."""

    def __init__(self, latent: int = LATENT, width: int = WIDTH, *, rngs: nnx.Rngs):
        self.width = width
        init = {"kernel_init": dcgan_init, "rngs": rngs}
        self.project = nnx.Linear(latent, 7 * 7 * 2 * width, use_bias=False, **init)
        self.bn0 = nnx.BatchNorm(7 * 7 * 2 * width, momentum=0.9, rngs=rngs)
        self.up = nnx.ConvTranspose(
            2 * width, width, (4, 4), strides=(2, 2), use_bias=False, **init
        )
        self.bn1 = nnx.BatchNorm(width, momentum=0.9, rngs=rngs)
        self.out = nnx.ConvTranspose(width, 1, (4, 4), strides=(2, 2), **init)

    def __call__(self, z):
        x = nnx.relu(self.bn0(self.project(z))).reshape(z.shape[0], 7, 7, 2 * self.width)
        return jnp.tanh(self.out(nnx.relu(self.bn1(self.up(x)))))


class Discriminator(nnx.Module):
    """DCGAN's D: two stride-2 4x4 convolutions with LeakyReLU(0.2), then one logit;
    `spectral_norm` wraps every layer in nnx.SpectralNorm."""

    def __init__(self, width: int = WIDTH, spectral_norm: bool = False, *, rngs: nnx.Rngs):
        def norm(layer):
            return nnx.SpectralNorm(layer, rngs=rngs) if spectral_norm else layer

        init = {"kernel_init": dcgan_init, "rngs": rngs}
        # A list of layers: in jaxgan's state (and checkpoints) its indices are keys "0", "1".
        self.convs = nnx.List(
            [
                norm(nnx.Conv(1, width, (4, 4), strides=(2, 2), **init)),
                norm(nnx.Conv(width, 2 * width, (4, 4), strides=(2, 2), **init)),
            ]
        )
        self.logit = norm(nnx.Linear(7 * 7 * 2 * width, 1, **init))

    def __call__(self, x, train: bool = True):  # takes jaxgan's flag, and ignores it
        for conv in self.convs:
            x = nnx.leaky_relu(conv(x), 0.2)
        return self.logit(x.reshape(x.shape[0], -1)).reshape(x.shape[0])


class LinearG(nnx.Module):
    """A one-layer G, for tests about D (cheap to compile)."""

    def __init__(self, *, rngs: nnx.Rngs):
        self.linear = nnx.Linear(LATENT, 28 * 28, kernel_init=dcgan_init, rngs=rngs)

    def __call__(self, z):
        return jnp.tanh(self.linear(z)).reshape(z.shape[0], 28, 28, 1)


CONFIG = tiny(g_ema_decay=0.9)


def real_batch(seed):
    shape = (CONFIG.d_steps, CONFIG.batch_size, 28, 28, 1)
    return {"image": np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)}


def flat(module, kind=nnx.Variable):
    """{path: value} of a module's variables of a kind, as numpy arrays."""

    def value(variable):
        if isinstance(variable, nnx.RngKey):
            return np.asarray(jax.random.key_data(variable.get_value()))
        return np.asarray(variable.get_value())

    return {p: value(v) for p, v in nnx.to_flat_state(nnx.state(module, kind))}


@pytest.fixture(scope="module")
def gan():
    """The NNX models, their bridged nets and the one compiled step all tests share."""
    g, d = Generator(rngs=nnx.Rngs(0)), Discriminator(rngs=nnx.Rngs(1))
    nets = {"g": from_nnx(g), "d": from_nnx(d)}
    step = jaxgan.make_train_step(CONFIG, nets=nets)
    return g, d, nets, step


def fresh(nets):
    return jaxgan.create_train_state(CONFIG, jax.random.key(0), nets=nets)


def test_an_nnx_dcgan_trains_through_make_train_step(gan):
    g, d, nets, step = gan
    g_before, d_before = flat(g), flat(d)
    state = fresh(nets)
    initial = jax.device_get(state)
    for seed in range(3):
        state, metrics = step(state, real_batch(seed))
        assert all(np.isfinite(float(value)) for value in metrics.values()), metrics
    after = jax.device_get(state)
    assert int(after.step) == 3
    for name in ("g", "d"):
        changed = jax.tree.map(
            lambda a, b: not np.array_equal(a, b),
            initial.nets[name].params,
            after.nets[name].params,
        )
        assert all(jax.tree.leaves(changed)), f"{name} has parameters the step left unchanged"
    # The state starts from the NNX models' own weights, and G's BatchNorm statistics
    # (nnx.BatchStat) are threaded through the step in `batch_stats`.
    assert set(initial.g.collections) == {"batch_stats"} and initial.d.collections == {}
    chex.assert_trees_all_equal(
        flat(to_nnx(nets["g"], initial.g.params, initial.g.collections)), g_before
    )
    stats_before, stats_after = (
        s.g.collections["batch_stats"]["bn1"]["mean"] for s in (initial, after)
    )
    assert not np.array_equal(stats_before, stats_after)
    # G's moving average (config.g_ema_decay) is of the NNX parameters too, and comes
    # back as an NNX module that runs.
    average = to_nnx(nets["g"], after.ema["g"], after.g.collections)
    average.eval()
    images = average(jnp.zeros((2, LATENT)))
    assert images.shape == (2, 28, 28, 1) and np.all(np.abs(np.asarray(images)) <= 1)
    assert not np.array_equal(after.ema["g"]["out"]["kernel"], after.g.params["out"]["kernel"])
    # The user's modules are as they were.
    chex.assert_trees_all_equal(flat(g), g_before)
    chex.assert_trees_all_equal(flat(d), d_before)


def test_one_step_is_the_nnx_models_own_update(gan):
    """jaxgan's step against the same update written by hand in NNX and optax: D's Adam
    step on its loss against G's fakes, then G's against the updated D."""
    g_model, d_model, nets, step = gan
    state = fresh(nets)
    batch = real_batch(7)
    # jaxgan's draw of step 0's z (jaxgan/families/gan.py: Keys, d_gradients).
    key = jax.random.fold_in(jax.random.wrap_key_data(state.key), 0)
    z = jax.random.normal(jax.random.fold_in(jax.random.split(key, 3)[0], 0), (16, LATENT))
    new_state, metrics = step(state, batch)
    new_state = jax.device_get(new_state)

    loss_fn = jaxgan.losses.get(CONFIG.loss, CONFIG.real_label)

    def adam_step(model, grads, rate, b1, b2):
        params, grads = nnx.to_pure_dict(nnx.state(model, nnx.Param)), nnx.to_pure_dict(grads)
        tx = optax.adam(rate, b1=b1, b2=b2)
        updates, _ = tx.update(grads, tx.init(params), params)
        nnx.update(model, optax.apply_updates(params, updates))
        return optax.tree.norm(grads)

    @nnx.jit  # one compilation: op by op, NNX's backward passes take far longer on CPU
    def update_by_hand(g, d, z, real):
        g.train(), d.train()
        fake = jax.lax.stop_gradient(nnx.clone(g)(z))  # G's statistics move once, as jaxgan's
        real_logits = d(real)
        d_loss, d_grads = nnx.value_and_grad(lambda d: loss_fn(d(real), d(fake))[0])(d)
        d_norm = adam_step(d, d_grads, CONFIG.d_learning_rate, CONFIG.d_beta1, CONFIG.d_beta2)
        g_loss, g_grads = nnx.value_and_grad(lambda g: loss_fn(real_logits, d(g(z)))[1])(g)
        g_norm = adam_step(g, g_grads, CONFIG.g_learning_rate, CONFIG.g_beta1, CONFIG.g_beta2)
        return d_loss, g_loss, d_norm, g_norm

    g, d = nnx.clone(g_model), nnx.clone(d_model)
    d_loss, g_loss, d_norm, g_norm = update_by_hand(g, d, z, batch["image"][0])
    expected = {"d_loss": d_loss, "g_loss": g_loss, "d_grad_norm": d_norm, "g_grad_norm": g_norm}
    for name, value in expected.items():
        np.testing.assert_allclose(float(metrics[name]), float(value), rtol=2e-5, err_msg=name)
    for name, model in (("g", g), ("d", d)):
        net = new_state.nets[name]
        got = flat(to_nnx(nets[name], net.params, net.collections))
        chex.assert_trees_all_close(got, flat(model), rtol=1e-5, atol=1e-6)


def test_a_resumed_nnx_run_equals_the_straight_run_bit_for_bit(gan, tmp_path):
    _, _, nets, step = gan
    straight = fresh(nets)
    for seed in range(4):
        straight, _ = step(straight, real_batch(seed))
    state = fresh(nets)
    for seed in range(2):
        state, _ = step(state, real_batch(seed))
    mngr = checkpoints.manager(tmp_path, CONFIG)
    checkpoints.save(mngr, state, 2)
    mngr.wait_until_finished()
    abstract = jax.eval_shape(lambda: fresh(nets))
    resumed, progress = checkpoints.restore(mngr, abstract)
    mngr.close()
    assert int(resumed.step) == 2 and progress["batches_consumed"] == 2
    for seed in range(2, 4):
        resumed, _ = step(resumed, real_batch(seed))
    chex.assert_trees_all_equal(jax.device_get(resumed), jax.device_get(straight))


@pytest.mark.parametrize(
    "build, example",
    [
        (lambda: Generator(rngs=nnx.Rngs(3)), jnp.ones((4, LATENT)) * jnp.arange(4.0)[:, None]),
        (
            lambda: Discriminator(spectral_norm=True, rngs=nnx.Rngs(4)),
            jnp.linspace(-1, 1, 4 * 28 * 28).reshape(4, 28, 28, 1),
        ),
    ],
    ids=["batchnorm_generator", "spectral_norm_discriminator"],
)
def test_the_bridged_net_is_the_nnx_module(build, example):
    """Training mode: the same output and the same updated statistics (BatchNorm's running
    averages, SpectralNorm's u and sigma) as the NNX module after `.train()`; evaluation
    mode: the NNX module after `.eval()`, statistics unchanged. Bit for bit."""
    model = build()
    before = flat(model)
    net = from_nnx(model)
    variables = net.init(jax.random.key(9), example, train=False)
    params, stats = variables["params"], {"batch_stats": variables["batch_stats"]}
    chex.assert_trees_all_equal(flat(to_nnx(net, params, stats)), before)
    for train in (True, False):
        out, updated = net.apply(variables, example, train=train, mutable=["batch_stats"])
        twin = nnx.clone(model)
        twin.train() if train else twin.eval()
        np.testing.assert_array_equal(out, twin(example))
        got = flat(to_nnx(net, params, updated), nnx.BatchStat)
        chex.assert_trees_all_equal(got, flat(twin, nnx.BatchStat))
        changed = not all(np.array_equal(got[p], before[p]) for p in got)
        assert changed == train
    chex.assert_trees_all_equal(flat(model), before)  # the user's module is untouched


def test_a_factory_draws_the_weights_from_jaxgans_key():
    """from_nnx(factory): the initialisation key draws the weights, as for jaxgan's own
    nets (a built module brings its own)."""
    net, z = from_nnx(LinearG), jnp.ones((2, LATENT))
    one, again, other = (net.init(jax.random.key(k), z, train=False) for k in (0, 0, 1))
    chex.assert_trees_all_equal(one, again)
    assert not np.array_equal(
        one["params"]["linear"]["kernel"], other["params"]["linear"]["kernel"]
    )
    built = LinearG(rngs=nnx.Rngs(5))
    chex.assert_trees_all_equal_shapes(one, from_nnx(built).init(jax.random.key(0), z))
    np.testing.assert_array_equal(
        from_nnx(built).init(jax.random.key(0), z)["params"]["linear"]["kernel"],
        built.linear.kernel[...],
    )


def test_a_spectrally_normalised_nnx_discriminator_trains_with_its_statistics_threaded():
    """nnx.SpectralNorm's power-iteration state (u, sigma: nnx.BatchStat) is updated by
    every step; the parameters stay the raw weights, moved by Adam alone (NNX's eager
    SpectralNorm writes W / sigma into the layer instead; through jaxgan the raw weight
    is the parameter, as with Linen's SpectralNorm and in Miyato et al.)."""
    d = Discriminator(spectral_norm=True, rngs=nnx.Rngs(1))
    nets = {"g": from_nnx(LinearG(rngs=nnx.Rngs(0))), "d": from_nnx(d)}
    state = fresh(nets)
    initial = jax.device_get(state)
    stats = initial.d.collections["batch_stats"]  # SpectralNorm's ("kernel", "u") key
    assert stats["convs"]["1"]["batch_stats"]["kernel_u"].shape == (1, 2 * WIDTH)
    np.testing.assert_array_equal(
        initial.d.params["convs"]["1"]["layer_instance"]["kernel"],
        d.convs[1].layer_instance.kernel[...],
    )
    state, metrics = jaxgan.make_train_step(CONFIG, nets=nets)(state, real_batch(0))
    after = jax.device_get(state)
    assert np.isfinite(float(metrics["d_loss"])) and np.isfinite(float(metrics["g_loss"]))
    for layer in (("convs", "0"), ("convs", "1"), ("logit",)):
        for stat in ("kernel_u", "kernel_sigma"):
            old, new = (
                functools.reduce(
                    dict.get, (*layer, "batch_stats", stat), s.d.collections["batch_stats"]
                )
                for s in (initial, after)
            )
            assert np.all(np.isfinite(new)) and not np.array_equal(old, new), (layer, stat)
    # One Adam step moves every weight by at most the learning rate: the parameters were
    # not replaced by W / sigma.
    moves = jax.tree.map(lambda a, b: np.max(np.abs(a - b)), initial.d.params, after.d.params)
    assert 0 < max(jax.tree.leaves(moves)) <= CONFIG.d_learning_rate * 1.001


# -- State jaxgan cannot thread --------------------------------------------------------


class DropoutD(Discriminator):
    def __init__(self, *, rngs):
        super().__init__(rngs=rngs)
        self.drop = nnx.Dropout(0.2, rngs=rngs)  # keeps an RNG stream in the module


class PlainArrayG(Generator):
    def __init__(self, *, rngs):
        super().__init__(rngs=rngs)
        self.offset = jnp.zeros(())  # an array that is no nnx.Variable


class LazyD(Discriminator):
    def __call__(self, x, train: bool = True):
        self.calls = nnx.BatchStat(jnp.zeros(()))  # state created by the call
        return super().__call__(x)


@pytest.mark.parametrize(
    "build, message",
    [
        (
            lambda: DropoutD(rngs=nnx.Rngs(1)),
            "DropoutD.drop.rngs.count is an RNG stream kept in the module (RngCount, e.g. "
            "nnx.Dropout(rngs=...) keeps one)",
        ),
        (
            lambda: PlainArrayG(rngs=nnx.Rngs(0)),
            "PlainArrayG.offset is a plain ArrayImpl attribute, not an nnx.Variable",
        ),
    ],
    ids=["rng_stream", "plain_array"],
)
def test_state_jaxgan_cannot_thread_is_refused_naming_it(build, message):
    model = build()
    before = flat(model)
    for given in (model, lambda rngs: type(model)(rngs=rngs)):  # a module, or a factory
        with pytest.raises(UserError) as error:
            from_nnx(given)
        assert str(error.value).startswith(message), str(error.value)
    chex.assert_trees_all_equal(flat(model), before)


def test_a_variable_created_by_call_is_refused_before_training():
    model = LazyD(rngs=nnx.Rngs(1))
    net = from_nnx(model)  # nothing wrong yet: the call makes it
    nets = {"g": from_nnx(LinearG(rngs=nnx.Rngs(0))), "d": net}
    with pytest.raises(UserError, match=r"^LazyD\.calls \(BatchStat\) is created by __call__: "):
        jaxgan.create_train_state(CONFIG, jax.random.key(0), nets=nets)
    assert not hasattr(model, "calls")


def test_the_readmes_nnx_example_runs():
    import contextlib
    import io
    import pathlib
    import re

    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    snippet = re.search(r"<!-- nnx -->\n```python\n(.*?)```", readme, re.S).group(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(snippet, {"__name__": "readme_nnx"})  # noqa: S102 - the README's own code
    shape, loss = printed.getvalue().rsplit(" ", 1)
    assert shape == "(4, 28, 28, 1)" and np.isfinite(float(loss))
