"""The families architecture: a family of the user's own trains through
jaxgan.make_train_step (lazy phases, extras, resume), the bigan family's step against a
hand-written reference, and the family-level refusals."""

import types

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxgan
from jaxgan import families
from jaxgan.config import validation as config_validation
from jaxgan.families import Phase, PhaseAux, bigan
from jaxgan.families import _bigan_nets as bigan_nets
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import restore as generate
from jaxgan.training import checkpoints
from jaxgan.training.state import NetState, TrainState
from tests.conftest import tiny

# -- A family of the user's own ----------------------------------------------------------


class Scalar(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool = False):
        return x * self.param("w", nn.initializers.constant(3.0), ())


TARGET, W_LR, V_LR, EVERY = 0.5, 0.1, 0.25, 3


def toy_family():
    """Net w pulled to TARGET every step by SGD; net v pulled to 1 by a lazy phase every
    EVERY steps, which also counts its runs in extras["runs"]."""

    def init(key, *, config, nets):
        txs = optimizers(config)
        params = {n: nets[n].init(key, jnp.ones(()))["params"] for n in ("w", "v")}
        return TrainState(
            step=jnp.zeros((), jnp.int32),
            key=jax.random.key_data(key),
            nets={n: NetState(p, {}, txs[n].init(p)) for n, p in params.items()},
            extras={"runs": jnp.zeros((), jnp.int32)},
        )

    def optimizers(config):
        return {"w": optax.sgd(W_LR), "v": optax.sgd(V_LR)}

    def w_loss(params, ctx):
        loss = (params["w"]["w"] - TARGET) ** 2
        return loss, PhaseAux({}, {"w_loss": loss})

    def v_loss(params, ctx):
        loss = (params["v"]["w"] - 1.0) ** 2
        runs = ctx.state.extras["runs"] + 1
        return loss, PhaseAux({}, {"v_loss": loss}, extras={"runs": runs})

    def phases(config, nets):
        return [Phase("w", ("w",), loss=w_loss), Phase("v", ("v",), loss=v_loss, every=EVERY)]

    return types.SimpleNamespace(
        GENERATOR="w",
        build=lambda config: {"w": Scalar(), "v": Scalar()},
        init=init,
        optimizers=optimizers,
        phases=phases,
        ema_decays=lambda config: {"w": 0.5},
        evaluators=lambda config: (),
    )


def run_toy(state, step, steps):
    batch = {"image": jnp.zeros((steps, 1, 1))}
    state, metrics = step(state, batch)
    return state, metrics


def test_a_family_of_the_users_own_trains_with_lazy_phases_extras_and_ema(tmp_path):
    config, family = tiny(batch_size=1), toy_family()
    state = jaxgan.create_train_state(config, family=family)
    step = jaxgan.make_train_step(config, family=family, steps=7)
    state, metrics = run_toy(state, step, 7)
    # w: SGD on (w - t)^2 is w <- t + (w - t)(1 - 2 lr), every step.
    w = TARGET + (3.0 - TARGET) * (1 - 2 * W_LR) ** np.arange(1, 8)
    np.testing.assert_allclose(float(state.nets["w"].params["w"]), w[-1], rtol=1e-6)
    # v: steps 0, 3 and 6 only, v <- 1 + (v - 1)(1 - 2 lr).
    v = 1 + (3.0 - 1) * (1 - 2 * V_LR) ** 3
    np.testing.assert_allclose(float(state.nets["v"].params["w"]), v, rtol=1e-6)
    assert int(state.extras["runs"]) == 3
    # The lazy phase's metrics read 0 on the steps it skips.
    ran = np.asarray(metrics["v_loss"]) != 0
    np.testing.assert_array_equal(ran, [s % EVERY == 0 for s in range(7)])
    # EMA with decay 0.5 of w after each step: a_k = 0.5 a_{k-1} + 0.5 w_k, a_0 = 3.
    average = 3.0
    for value in w:
        average = 0.5 * average + 0.5 * value
    np.testing.assert_allclose(float(state.ema["w"]["w"]), average, rtol=1e-6)


def test_a_family_of_the_users_own_resumes_exactly_from_a_checkpoint(tmp_path):
    config, family = tiny(batch_size=1), toy_family()
    one = jaxgan.make_train_step(config, family=family)
    straight = jaxgan.create_train_state(config, family=family)
    for _ in range(5):
        straight, _ = run_toy(straight, one, 1)
    state = jaxgan.create_train_state(config, family=family)
    for _ in range(2):
        state, _ = run_toy(state, one, 1)
    mngr = checkpoints.manager(tmp_path, config)
    checkpoints.save(mngr, state, 2)
    mngr.wait_until_finished()
    abstract = jax.eval_shape(lambda: jaxgan.create_train_state(config, family=family))
    resumed, progress = checkpoints.restore(mngr, abstract)
    mngr.close()
    assert progress["batches_consumed"] == 2
    for _ in range(3):
        resumed, _ = run_toy(resumed, one, 1)
    chex.assert_trees_all_equal(jax.device_get(resumed), jax.device_get(straight))


# -- The bigan family ----------------------------------------------------------------------


def bigan_config(**overrides):
    config = tiny(family="bigan", latent_dim=4, batch_size=8, bigan_weight_decay=1e-3)
    for name, value in overrides.items():
        config[name] = value
    return config


def small_bigan_nets(config):
    shape = (28, 28, 1)
    return {
        "e": bigan_nets.MLPEncoder(config.latent_dim, config.latent_dim, width=8),
        "g": bigan_nets.MLPGenerator(shape, width=8),
        "d": bigan_nets.MLPDiscriminator(width=8),
    }


def bce(logits, label):
    """-[y log s(l) + (1 - y) log(1 - s(l))], written out."""
    return -(label * jax.nn.log_sigmoid(logits) + (1 - label) * jax.nn.log_sigmoid(-logits))


def reference_bigan_step(state, nets, x, config):
    """One BiGAN update as its code does it: every gradient at the old state, E and G
    with the labels swapped, each half of the loss weighted 1/2, L2 decay then Adam."""
    key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
    z = jax.random.uniform(families.stream(key, "z"), (x.shape[0], config.latent_dim), minval=-1)

    def run(name, params, *inputs):
        net = state.nets[name]
        variables = {"params": params, **net.collections}
        return nets[name].apply(variables, *inputs, train=True, mutable=["batch_stats"])[0]

    def pairs(e_params, g_params):
        z_real = 2 * jax.nn.sigmoid(run("e", e_params, x)) - 1
        return z_real, run("g", g_params, z)

    def d_logits(d_params, z_real, x_fake):
        return run("d", d_params, x, z_real), run("d", d_params, x_fake, z)

    def eg_loss(eg):
        real, fake = d_logits(state.nets["d"].params, *pairs(eg["e"], eg["g"]))
        return 0.5 * jnp.mean(bce(real, 0.0)) + 0.5 * jnp.mean(bce(fake, 1.0))

    def d_loss(d_params):
        real, fake = d_logits(d_params, *pairs(state.nets["e"].params, state.nets["g"].params))
        return 0.5 * jnp.mean(bce(real, 1.0)) + 0.5 * jnp.mean(bce(fake, 0.0))

    eg_grads = jax.grad(eg_loss)({n: state.nets[n].params for n in ("e", "g")})
    grads = {**eg_grads, "d": jax.grad(d_loss)(state.nets["d"].params)}
    new = {}
    for name, grad in grads.items():
        params = state.nets[name].params
        grad = jax.tree.map(lambda g, p: g + config.bigan_weight_decay * p, grad, params)
        adam = optax.adam(2e-4, b1=0.5, b2=0.999)
        updates, _ = adam.update(grad, adam.init(params), params)
        new[name] = optax.apply_updates(params, updates)
    return new


def test_the_bigan_step_is_the_references_simultaneous_update():
    config = bigan_config()
    nets = small_bigan_nets(config)
    state = jaxgan.create_train_state(config, nets=nets)
    x = jax.random.uniform(jax.random.key(1), (1, 8, 28, 28, 1), minval=-1)
    expected = reference_bigan_step(jax.device_get(state), nets, x[0], config)
    new_state, metrics = jaxgan.make_train_step(config, nets=nets)(state, {"image": x})
    for name in ("e", "g", "d"):
        chex.assert_trees_all_close(
            new_state.nets[name].params, expected[name], atol=1e-7, rtol=1e-5
        )
    # At init D's output layer is zero: every logit is 0, both losses ln 2.
    np.testing.assert_allclose(float(metrics["d_loss"]), np.log(2), rtol=1e-6)
    np.testing.assert_allclose(float(metrics["g_loss"]), np.log(2), rtol=1e-6)


def test_bigan_mlp_nets_have_the_references_parameter_counts():
    config = bigan_config(latent_dim=50)
    state = jax.eval_shape(lambda: jaxgan.create_train_state(config))

    def count(name):
        return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(state.nets[name].params))

    # Bias-free dense layers only (BatchNorm has no scale or shift).
    assert count("e") == 784 * 1024 + 1024 * 1024 + 1024 * 50
    assert count("g") == 50 * 1024 + 1024 * 1024 + 50 * 1024 + 1024 * 784
    assert count("d") == 784 * 1024 + 1024 * 1024 + 50 * 1024 + 1024


def test_the_gaussian_encoder_samples_around_its_mean():
    config = bigan_config(bigan_encoder="gaussian", bigan_latent="normal")
    outputs = jnp.array([[0.5, -1.0, np.log(2.0), np.log(0.5)]])  # mean (0.5, -1), std (2, .5)
    key = jax.random.key(3)
    eps = jax.random.normal(key, (1, 2))
    np.testing.assert_allclose(
        bigan.code(outputs, config, key),
        jnp.array([[0.5, -1.0]]) + jnp.array([[2.0, 0.5]]) * eps,
        rtol=1e-6,
    )
    np.testing.assert_allclose(bigan.code(outputs, config, None), [[0.5, -1.0]])


def test_reconstruction_errors_as_the_reference_defines_them():
    from jaxgan.metrics import bigan as bigan_evaluation

    # Black, white, black; a perfect reconstruction: no error, and the baseline is the
    # distance of each image to the next of its batch (the last to the first):
    # |white - black| = sqrt(784) = 28 twice, then 0.
    images = np.zeros((3, 28, 28, 1), np.uint8)
    images[1] = 255
    nets = bigan_evaluation.Nets(encode=None, reconstruct=lambda x: x)
    error, baseline = bigan_evaluation.reconstruction_errors(nets, images, tiny())
    assert error == 0
    np.testing.assert_allclose(baseline, (28 + 28 + 0) / 3, rtol=1e-6)


def test_nearest_neighbour_accuracy_on_a_hand_made_set():
    from jaxgan.metrics import bigan as bigan_evaluation

    gallery = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], np.float32)
    labels = np.array([0, 1, 2])
    queries = np.array([[1.0, 1.0], [9.0, 1.0], [1.0, 9.0], [6.0, 0.0]], np.float32)
    # Nearest: 0, 1, 2, 1; the last query is labelled 0, so 3 of 4 are right.
    accuracy = bigan_evaluation.nearest_neighbour_accuracy(
        queries, np.array([0, 1, 2, 0]), gallery, labels
    )
    assert accuracy == 0.75


# -- Sampling uses the moving average -------------------------------------------------------


def test_samples_and_fid_use_the_moving_average_when_the_run_keeps_one():
    config = tiny(g_ema_decay=0.9)
    family = families.of(config)
    state = jaxgan.create_train_state(config)
    state = state.replace(ema={"g": jax.tree.map(lambda p: p + 1.0, state.g.params)})
    generator = family.build(config)["g"]
    chex.assert_trees_all_equal(
        generate.generator_net(state, config, family, generator).params, state.g_ema
    )
    config.sample_with_ema = False
    chex.assert_trees_all_equal(
        generate.generator_net(state, config, family, generator).params, state.g.params
    )


# -- Refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"family": "nope"}, "unknown config.family 'nope': jaxgan has"),
        ({"family": "os.path"}, "is not a family module: it lacks GENERATOR"),
        ({"family": "no_such.module"}, "cannot be imported"),
        ({"family": "bigan", "unroll_steps": 5}, "config.unroll_steps=5 is a setting of the gan"),
        ({"family": "bigan", "conditional": True}, "config.conditional=True is a setting of the"),
        ({"family": "bigan", "pack": 2}, "config.pack=2 is a setting of the gan family"),
        ({"bigan_encoder": "gaussian"}, "bigan_encoder='gaussian' is a setting of the bigan"),
        ({"family": "bigan", "bigan_nets": "cnn"}, "config.bigan_nets must be one of"),
    ],
)
def test_family_settings_are_refused_with_one_line(overrides, message):
    with pytest.raises(UserError, match=message) as error:
        config_validation.validate(tiny(**overrides))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "spec, field, value",
    [
        ("configs/cyclegan.py", "lr_schedule", "linear"),
        ("configs/cyclegan.py", "g_lr_schedule", "linear"),
        ("configs/srgan.py", "d_lr_warmup_steps", 10),
        ("configs/cyclegan.py", "g_ema_decay", 0.999),
        ("configs/pix2pix.py", "lr_warmup_steps", 10),
        ("configs/pix2pix.py", "optimizer", "rmsprop"),
        ("configs/srgan.py", "lr_schedule", "linear"),
        ("configs/srgan.py", "ema_start", 5),
        ("configs/bigan.py", "optimizer", "rmsprop"),
        ("configs/progan.py", "ema_collections", True),
    ],
)
def test_generic_settings_a_family_leaves_unread_are_refused_not_ignored(spec, field, value):
    """These families build their own optimisers (the references' Adam, the translation
    families with their epoch rule) and keep no average: a generic schedule, optimiser or
    average set for them would change nothing, so it is refused."""
    config = jaxgan.load_config(spec)
    config_validation.validate(config)  # the config itself is accepted
    config[field] = value
    with pytest.raises(UserError, match=f"config.{field}={value!r}: the {config.family} family"):
        config_validation.validate(config)


def test_bigan_follows_the_generic_linear_schedule():
    """With a constant gradient Adam's bias-corrected step is the learning rate itself
    (m/sqrt(v) = 1, up to eps and float32 rounding), so the k-th update of BiGAN's
    optimiser is the schedule's rate at k: base * (1 - k / num_train_steps)."""
    config = jaxgan.load_config("configs/bigan.py")
    config.lr_schedule, config.num_train_steps, config.bigan_weight_decay = "linear", 10, 0.0
    config_validation.validate(config)
    optimizer = bigan.optimizers(config)["g"]
    params = jnp.zeros(3)
    opt_state = optimizer.init(params)
    for k in range(4):
        updates, opt_state = optimizer.update(jnp.ones(3), opt_state, params)
        expected = -config.g_learning_rate * (1 - k / 10)
        np.testing.assert_allclose(updates, expected, rtol=1e-4)  # float32 bias correction


def test_bigans_encoder_follows_gs_schedule_and_d_its_own():
    """As above, the k-th Adam update is the rate at k: with D's own linear schedule, E and
    G keep G's constant rate and D decays."""
    config = jaxgan.load_config("configs/bigan.py")
    config.d_lr_schedule, config.num_train_steps, config.bigan_weight_decay = "linear", 10, 0.0
    config_validation.validate(config)
    rates = {"e": config.g_learning_rate, "g": config.g_learning_rate}
    for name, optimizer in bigan.optimizers(config).items():
        params = jnp.zeros(3)
        opt_state = optimizer.init(params)
        for k in range(4):
            updates, opt_state = optimizer.update(jnp.ones(3), opt_state, params)
            expected = -rates.get(name, config.d_learning_rate * (1 - k / 10))
            np.testing.assert_allclose(updates, expected, rtol=1e-4, err_msg=name)


def test_fid_is_computed_from_the_moving_average(tmp_path, monkeypatch):
    import pathlib
    import shutil

    from jaxgan.metrics import evaluation

    workdir = tmp_path / "run"  # a DCGAN with g_ema_decay 0.9, trained 2 steps
    shutil.copytree(pathlib.Path(__file__).parent / "golden" / "workdir_0.2", workdir)
    scored = []
    monkeypatch.setattr(
        evaluation,
        "score_generator",
        lambda config, gen, g, step, **_: scored.append(g) or {"fid": 1.0, "num_samples": 1},
    )
    evaluation._score_checkpoint(workdir, None, {})
    restored = generate.restore(workdir)
    chex.assert_trees_all_equal(scored[0].params, restored.state.ema["g"])
    changed = jax.tree.map(
        lambda a, b: not np.array_equal(a, b), restored.state.ema["g"], restored.state.g.params
    )
    assert any(jax.tree.leaves(changed))  # the average is not G's own parameters
    # Training's FID (fid_every_steps) scores the same variables.
    writer = types.SimpleNamespace(console=lambda line: None)
    monkeypatch.setattr(evaluation, "publish", lambda *args: None)
    monkeypatch.setattr(jax, "process_index", lambda: 1)
    evaluation.evaluate_during_training(restored.config, workdir, restored.state, writer)
    chex.assert_trees_all_equal(scored[1].params, restored.state.ema["g"])


# -- Refusals on the command line: one line, exit 2, nothing touched -------------------------


def golden_workdir(tmp_path, version=None):
    import json
    import pathlib
    import shutil

    workdir = tmp_path / "run"
    shutil.copytree(pathlib.Path(__file__).parent / "golden" / "workdir_0.2", workdir)
    if version is not None:
        path = workdir / "config.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "jaxgan_version": version}))
    return workdir


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--config=configs/dcgan.py", "--config.family=nope"], "unknown config.family 'nope'"),
        (["--config=configs/bigan.py", "--config.unroll_steps=5"], "config.unroll_steps=5 is a"),
        (["--config=configs/bigan.py", "--config.conditional=True"], "conditional=True is a"),
    ],
)
def test_bad_family_settings_stop_the_command_with_one_line(tmp_path, flags, expected):
    from tests.test_main import error_line, run_main

    result = run_main(*flags, f"--workdir={tmp_path / 'run'}")
    assert result.returncode == 2
    assert expected in error_line(result)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("module", ["jaxgan.main", "jaxgan.sample", "jaxgan.evaluate"])
def test_a_workdir_of_jaxgan_0_1_is_refused_naming_its_version(tmp_path, module):
    from tests.test_bad_inputs import checksums
    from tests.test_main import TINY, error_line, run_main

    workdir = golden_workdir(tmp_path, version="0.1.0")
    before = checksums(workdir)
    args = {
        "jaxgan.main": [*TINY, "--config.g_ema_decay=0.9", "--config.num_train_steps=4"],
        "jaxgan.sample": [f"--out={tmp_path / 'out.npz'}"],
        "jaxgan.evaluate": [],
    }[module]
    result = run_main(*args, f"--workdir={workdir}", module=module)
    assert result.returncode == 2
    assert "was written by jaxgan 0.1.0; this is jaxgan 0.2" in error_line(result)
    assert checksums(workdir) == before


def test_a_workdir_of_another_family_is_refused(tmp_path):
    from tests.test_bad_inputs import checksums
    from tests.test_main import error_line, run_main

    workdir = golden_workdir(tmp_path)
    before = checksums(workdir)
    result = run_main("--config=configs/bigan.py", f"--workdir={workdir}")
    assert result.returncode == 2
    assert "family: workdir has 'gan', requested 'bigan'" in error_line(result)
    assert checksums(workdir) == before


def test_the_readmes_family_example_runs_and_prints_the_closed_forms():
    import contextlib
    import io
    import pathlib
    import re

    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    snippet = re.search(r"<!-- family -->\n```python\n(.*?)```", readme, re.S).group(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(snippet, {"__name__": "readme_family"})
    a, b = map(float, printed.getvalue().split())
    np.testing.assert_allclose([a, b], [0.5 + 2.5 * 0.8**6, 1 + 2 * 0.5**2], rtol=1e-6)


def test_a_bigan_run_trains_encodes_and_scores(tmp_path, monkeypatch):
    from jaxgan.data import datasets
    from jaxgan.metrics import bigan as bigan_evaluation
    from tests.test_main import run_main

    workdir = tmp_path / "run"
    steps = ["--config.num_train_steps=2", "--config.checkpoint_every_steps=2"]
    result = run_main("--config=configs/bigan.py", f"--workdir={workdir}", *steps)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "parameters: d 1,903,616, e 1,902,592, g 1,953,792" in result.stderr + result.stdout
    out = tmp_path / "features.npz"
    result = run_main(f"--workdir={workdir}", f"--out={out}", module="jaxgan.encode")
    assert result.returncode == 0, result.stderr[-2000:]
    with np.load(out) as arrays:
        assert arrays["features"].shape == (10_000, 50) and arrays["labels"].shape == (10_000,)
        assert np.isfinite(arrays["features"]).all()
    # The evaluator on the first 3,000 images of each split (the whole 50k/10k took most
    # of this test's two minutes): the same code path, a noisier nearest-neighbour score.
    load = datasets.load

    def first_images(config):
        dataset = load(config)
        return datasets.Dataset(dataset.images[:3000], dataset.labels[:3000], dataset.num_classes)

    monkeypatch.setattr(bigan_evaluation.datasets, "load", first_images)
    record = bigan_evaluation.record(generate.restore(workdir))
    assert 0.1 < record["nn_accuracy"] <= 1
    assert record["recon_ratio"] == record["recon_error"] / record["recon_error_baseline"]


def test_the_ali_config_trains_a_step_of_its_conv_nets():
    config = jaxgan.load_config("configs/ali.py")
    config.g_width = config.d_width = 8
    config.batch_size = 4
    for image_size in (28, 32):
        config.image_size = image_size
        state = jaxgan.create_train_state(config)
        x = jax.random.uniform(jax.random.key(0), (1, 4, image_size, image_size, 1), minval=-1)
        state, metrics = jaxgan.make_train_step(config)(state, {"image": x})
        assert all(np.isfinite(float(v)) for v in metrics.values())
        assert state.nets["e"].params["Dense_0"]["kernel"].shape[-1] == 2 * config.latent_dim


def test_the_moving_average_copies_g_before_ema_start():
    """BigGAN-PyTorch's ema_start: decay 0 while the iteration (from 1) is below it."""
    from jaxgan.training.state import NetState, TrainState
    from jaxgan.training.step import family_step

    params = {"w": jnp.array([2.0])}

    def after(step, ema_start):
        state = TrainState(
            step=jnp.asarray(step, jnp.int32),
            key=jax.random.key_data(jax.random.key(0)),
            nets={"g": NetState(params, {}, ())},
            ema={"g": {"w": jnp.array([0.0])}},
        )
        new, _ = family_step(
            state, {}, phases=[], optimizers={}, ema_decays={"g": 0.5}, ema_start=ema_start
        )
        return float(new.ema["g"]["w"][0])

    assert after(step=0, ema_start=0) == 1.0  # 0.5 * 0 + 0.5 * 2
    assert after(step=0, ema_start=3) == 2.0  # iteration 1 < 3: a copy
    assert after(step=1, ema_start=3) == 2.0  # iteration 2 < 3
    assert after(step=2, ema_start=3) == 1.0  # iteration 3: averaging
