"""configs/biggan.py: the networks of BigGAN-PyTorch's CIFAR-10 script, by parameter
count (the reference's G and D instantiated with CPU torch at the script's settings:
G 4,304,387 and D 4,207,361), and one training step."""

import jax
import numpy as np

import jaxgan
from jaxgan.training.state import create_train_state
from jaxgan.training.step import make_train_step


def count(tree) -> int:
    return sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(tree))


def test_the_networks_have_the_reference_parameter_counts():
    config = jaxgan.load_config("configs/biggan.py")
    config.num_classes = 10  # CIFAR-10's; the training loop resolves it from the data
    state = jax.eval_shape(lambda: create_train_state(config, jax.random.key(0)))
    assert count(state.g.params) == 4_304_387
    assert count(state.d.params) == 4_207_361
    # Spectral normalisation in both nets: its vectors are state, not parameters.
    assert "batch_stats" in state.d.collections and "batch_stats" in state.g.collections


def test_a_narrow_biggan_trains_a_step():
    config = jaxgan.load_config("configs/biggan.py")
    config.num_classes, config.g_width, config.d_width, config.batch_size = 10, 16, 16, 4
    state = create_train_state(config, jax.random.key(0))
    images = np.random.default_rng(0).uniform(-1, 1, (4, 4, 32, 32, 3)).astype(np.float32)
    labels = np.random.default_rng(1).integers(0, 10, (4, 4)).astype(np.int32)
    state, metrics = make_train_step(config)(state, {"image": images, "label": labels})
    assert int(state.step) == 1 and np.isfinite(float(metrics["g_loss"]))
    assert set(state.ema) == {"g"}
