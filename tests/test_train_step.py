import chex
import jax
import numpy as np
import pytest

import jaxgan
from jaxgan.config import validation as config_validation
from jaxgan.runtime.errors import UserError
from jaxgan.training import step as train_step_lib
from jaxgan.training.state import create_train_state
from jaxgan.training.step import make_train_step
from tests.conftest import tiny


def real_batch(config, seed=0):
    rng = np.random.default_rng(seed)
    shape = (
        config.d_steps,
        config.batch_size,
        config.image_size,
        config.image_size,
        config.num_channels,
    )
    return {"image": rng.uniform(-1, 1, shape).astype(np.float32)}


def d_loss_on(state, batch, config):
    """The discriminator loss on a fixed real batch and fixed fakes, in training mode."""
    generator, discriminator = jaxgan.nn.models.build(config)
    z = jax.random.normal(jax.random.key(42), (config.batch_size, config.latent_dim))
    fake = generator.apply({"params": state.g.params, **state.g.collections}, z, train=False)
    variables = {"params": state.d.params, **state.d.collections}
    real_logits, _ = discriminator.apply(variables, batch["image"][0], mutable=["batch_stats"])
    fake_logits, _ = discriminator.apply(variables, fake, mutable=["batch_stats"])
    return float(jaxgan.objectives.losses.get(config.loss)(real_logits, fake_logits)[0])


def test_steps_change_both_nets_and_lower_the_d_loss_on_a_fixed_batch(monkeypatch):
    config = tiny()
    traced = chex.assert_max_traces(train_step_lib.family_step, n=1)
    monkeypatch.setattr(train_step_lib, "family_step", traced)
    state = create_train_state(config)
    before = jax.device_get(state)
    batch = real_batch(config)
    step = make_train_step(config)
    d_before = d_loss_on(before, batch, config)
    for _ in range(5):
        state, metrics = step(state, batch)  # a second trace would fail here
    after = jax.device_get(state)
    assert int(after.step) == 5
    for net in ("g", "d"):
        changed = jax.tree.map(
            lambda a, b: not np.array_equal(a, b),
            getattr(before, net).params,
            getattr(after, net).params,
        )
        assert all(jax.tree.leaves(changed)), f"{net} has parameters the step left unchanged"
    # G's BatchNorm running statistics were updated inside the step too.
    assert not np.array_equal(
        before.g.collections["batch_stats"]["BatchNorm_0"]["mean"],
        after.g.collections["batch_stats"]["BatchNorm_0"]["mean"],
    )
    assert d_loss_on(after, batch, config) < d_before
    assert set(metrics) == {
        "d_loss",
        "g_loss",
        "d_penalty",
        "d_real",
        "d_fake",
        "d_real_logit",
        "d_fake_logit",
        "d_grad_norm",
        "g_grad_norm",
    }
    assert all(np.isfinite(float(v)) for v in metrics.values())


@pytest.mark.parametrize("simultaneous", [False, True])
def test_the_step_matches_an_unfused_reference_update(simultaneous):
    """The fused step (shared G forward, D input-gradient only) equals the plain
    two-pass update: D on (real, G(z)); then G through the updated D at the same z, or
    (simultaneous_updates) through D as it was before its last update."""
    config = tiny(
        d_steps=2,
        g_learning_rate=1e-3,
        d_learning_rate=3e-4,
        simultaneous_updates=simultaneous,
    )
    state = create_train_state(config)
    batch = real_batch(config, seed=1)
    generator, discriminator = jaxgan.nn.models.build(config)
    g_tx, d_tx = jaxgan.training.state.optimizers(config)
    loss_fn = jaxgan.objectives.losses.get(config.loss)

    def run(net, params, collections, x):
        return net.apply({"params": params, **collections}, x, mutable=["batch_stats"])

    def reference(state, images):
        key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)
        g, d = state.g, state.d
        for i in range(config.d_steps):
            d_before = d
            z_key = jax.random.split(key, 3)[0]
            z = jax.random.normal(jax.random.fold_in(z_key, i), (config.batch_size, 16))
            fake, _ = run(generator, g.params, g.collections, z)

            def d_objective(params, collections, fake=fake, real=images[i]):
                real_logits, collections = run(discriminator, params, collections, real)
                fake_logits, collections = run(discriminator, params, collections, fake)
                return loss_fn(real_logits, fake_logits)[0], (collections, real_logits)

            (_, (d_collections, real_logits)), grads = jax.value_and_grad(
                d_objective, has_aux=True
            )(d.params, d.collections)
            updates, opt_state = d_tx.update(grads, d.opt_state, d.params)
            d = d.replace(
                params=jax.tree.map(lambda p, u: p + u, d.params, updates),
                collections=d_collections,
                opt_state=opt_state,
            )

        def g_objective(params):
            # In training mode BatchNorm normalises by the batch: running averages
            # do not enter G's output, so any collections give the same fakes.
            fake, _ = run(generator, params, g.collections, z)
            judge = d_before.params if simultaneous else d.params
            logits, _ = run(discriminator, judge, d.collections, fake)
            return loss_fn(real_logits, logits)[1]

        g_grads = jax.grad(g_objective)(g.params)
        updates, _ = g_tx.update(g_grads, g.opt_state, g.params)
        return jax.tree.map(lambda p, u: p + u, g.params, updates), d.params

    expected_g, expected_d = jax.jit(reference)(state, batch["image"])
    new_state, _ = make_train_step(config)(state, batch)
    chex.assert_trees_all_close(new_state.g.params, expected_g, atol=1e-6, rtol=1e-5)
    chex.assert_trees_all_close(new_state.d.params, expected_d, atol=1e-6, rtol=1e-5)
    if simultaneous:  # and the flag matters: the other order gives another G
        other = tiny(**{**config.to_dict(), "simultaneous_updates": False})
        # The step donates its state: start the other order from a fresh, equal one.
        sequential, _ = make_train_step(other)(create_train_state(other), batch)
        differences = jax.tree.map(
            lambda a, b: float(np.max(np.abs(a - b))), sequential.g.params, new_state.g.params
        )
        assert max(jax.tree.leaves(differences)) > 1e-6


def test_mlp_and_unrolling_options_are_checked():
    for overrides, message in (
        (dict(mlp_init_std=0.02, mlp_orthogonal_gain=1.4), "both pick the mlp's init"),
        (dict(mlp_orthogonal_gain=-1.0), "mlp_orthogonal_gain must be >= 0"),
        (dict(mlp_activation="gelu"), r"mlp_activation must be one of \['relu', 'tanh'\]"),
        (dict(unrolled_objective="value"), "must be 'g_loss' or 'saddle'"),
        (dict(unrolled_objective="saddle"), "needs a zero-sum loss"),
        (dict(unrolled_second_order=False), "unroll_steps is 0"),
    ):
        with pytest.raises(UserError, match=message):
            config_validation.validate(tiny(**overrides))


def test_batch_size_must_divide_by_the_devices():
    config = tiny(batch_size=0)
    with pytest.raises(UserError, match="positive multiple"):
        make_train_step(config)


def test_embedding_snippet_from_the_readme():
    """The README's embedding example, run as a user's own loop would."""
    import re
    import textwrap

    readme = open("README.md").read()
    snippet = re.search(r"<!-- embedding -->\n```python\n(.*?)```", readme, re.S).group(1)
    namespace = {}
    exec(textwrap.dedent(snippet), namespace)  # noqa: S102 - the README's own code
    state, metrics = namespace["state"], namespace["metrics"]
    assert int(state.step) == 3
    assert np.isfinite(float(metrics["g_loss"]))


def test_several_steps_per_call_equal_one_step_per_call():
    """A lax.scan over 3 steps gives the states and metrics of 3 calls of the one-step
    function, up to float rounding: the two compilations fuse and order sums differently,
    so the states are not bitwise equal (checked: BatchNorm biases differ in the last bits)."""
    config = tiny()
    batches = [real_batch(config, seed) for seed in range(3)]
    state = create_train_state(config)
    one = make_train_step(config)
    expected_metrics = []
    for batch in batches:
        state, metrics = one(state, batch)
        expected_metrics.append(metrics)
    stacked = jax.tree.map(lambda *b: np.stack(b), *batches)
    scanned_state, scanned_metrics = make_train_step(config, steps=3)(
        create_train_state(config), stacked
    )
    assert int(scanned_state.step) == 3
    chex.assert_trees_all_close(
        jax.device_get(scanned_state), jax.device_get(state), rtol=1e-5, atol=1e-6
    )
    expected = jax.tree.map(lambda *m: np.stack(m), *jax.device_get(expected_metrics))
    chex.assert_trees_all_close(jax.device_get(scanned_metrics), expected, rtol=1e-5, atol=1e-6)
