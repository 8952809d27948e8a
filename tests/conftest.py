"""Shared fixtures: a tiny config that trains in seconds on 2 CPU cores."""

import os
import tempfile

import pytest

# Most of the suite's time is XLA compiling the same tiny step again in each run and
# subprocess; a persistent cache shared by the session and its subprocesses cuts it.
# Under pytest-xdist (-n 2) each worker gets its own (the name with "-gw0", "-gw1"): JAX
# writes an unbounded cache's entries without a lock, so a worker could read another's
# half-written entry (JAX then warns on stderr and recompiles, which tests reading a
# subprocess's stderr would see). The workers inherit the controller's environment, where
# this file has already set the shared name.
_cache = os.environ.get(
    "JAX_COMPILATION_CACHE_DIR", os.path.join(tempfile.gettempdir(), "jaxgan-test-xla-cache")
)
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and not _cache.endswith(f"-{_worker}"):
    _cache = f"{_cache}-{_worker}"
os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")

from jaxgan.config.defaults import base_config  # noqa: E402 (after the cache settings)


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def tiny(**overrides):
    """A DCGAN on 28x28 MNIST, 8 channels wide, batch 16: seconds per compile on CPU."""
    config = base_config()
    config.g_width = 8
    config.d_width = 8
    config.latent_dim = 16
    config.batch_size = 16
    config.num_train_steps = 4
    config.log_every_steps = 2
    config.checkpoint_every_steps = 2
    config.num_samples = 16
    for name, value in overrides.items():
        config[name] = value
    return config


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    """JAXGAN_CACHE_DIR of its own for a module whose datasets are tmp folders: each run's
    folders hash to new cache keys, which would pile up in the user's cache. (Modules
    that need the converted Inception weights keep the user's cache.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JAXGAN_CACHE_DIR", str(tmp_path_factory.mktemp("jaxgan-cache")))
        yield


@pytest.fixture
def tiny_config():
    return tiny()


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A tiny DCGAN trained 2 steps on a 32-image npz (faster to load than MNIST),
    with checkpoints at steps 1 and 2. Read-only for the tests that share it."""
    import numpy as np

    from jaxgan.training import loop as train

    root = tmp_path_factory.mktemp("tiny_run")
    pixels = np.random.default_rng(0).integers(0, 256, (32, 28, 28), dtype=np.uint8)
    np.savez(root / "data.npz", images=pixels)
    config = tiny(num_train_steps=2, checkpoint_every_steps=1, dataset=f"npz:{root / 'data.npz'}")
    train.train_and_evaluate(config, root / "run")
    return root / "run"
