"""The step on 8 (fake CPU) devices equals the step on one device: batch statistics,
mini-batch discrimination and the minibatch stddev layer all see the global batch, and
labels and DiffAugment's per-image draws split with the images."""

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import jax, numpy as np, chex
    from jaxgan.runtime import sharding
    from jaxgan.training.state import create_train_state
    from jaxgan.training.step import make_train_step
    from tests.conftest import tiny

    assert jax.device_count() == 8, jax.devices()
    config = tiny(batch_size=16, d_steps=2, **OVERRIDES)
    rng = np.random.default_rng(0)
    batches = [{"image": rng.uniform(-1, 1, (2, 16, 28, 28, 1)).astype(np.float32),
                "label": rng.integers(0, 10, (2, 16)).astype(np.int32)}
               for _ in range(3)]
    results = []
    for devices in (jax.devices()[:1], jax.devices()):
        mesh = sharding.data_mesh(devices)
        state = create_train_state(config, jax.random.key(0), mesh)
        step = make_train_step(config, mesh)
        for batch in batches:
            state, metrics = step(state, batch)
        assert len(state.g.params["Dense_0"]["kernel"].sharding.device_set) == len(devices)
        results.append((jax.device_get(state), jax.device_get(metrics)))
    (one, one_metrics), (eight, eight_metrics) = results
    chex.assert_trees_all_close(one, eight, rtol=2e-4, atol=2e-5)
    chex.assert_trees_all_close(one_metrics, eight_metrics, rtol=2e-4, atol=2e-5)
    differs = jax.tree.leaves(jax.tree.map(lambda a, b: float(np.max(np.abs(a - b))), one, eight))
    print("max difference", max(differs))
    """
)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"minibatch_features": "minibatch_discrimination", "minibatch_kernels": 4},
        {"minibatch_features": "minibatch_stddev", "d_norm": "spectral_norm"},
        pytest.param(
            {
                "conditional": True,
                "num_classes": 10,
                "conditional_form": "projection",
                "diffaugment": "color,translation,cutout",
            },
            marks=pytest.mark.slow,
        ),
    ],
    ids=["batch_norm", "minibatch_discrimination", "minibatch_stddev", "conditional_diffaugment"],
)
def test_eight_devices_match_one_device(overrides):
    env = dict(
        os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"OVERRIDES = {overrides!r}\n" + SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "max difference" in result.stdout
