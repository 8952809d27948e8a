"""The classifiers that score generators of 28x28 grey datasets: a small CNN that jaxgan
trains itself on a dataset's training split, once, and caches. MNIST's scores stacked-
MNIST generators (modes); MNIST's and Fashion-MNIST's score conditional generators (the
classification accuracy of samples, jaxgan/metrics/class_accuracy.py).

Stacked MNIST's metrics (jaxgan/metrics/modes.py) need each channel of a generated image
classified as a digit (Metz et al. 2017 and VEEGAN used a pretrained MNIST classifier).
The classifier is built on first use: trained for EPOCHS epochs (MNIST: 99.18% test
accuracy; about 2 minutes on 2 CPU cores), its test accuracy printed to stderr,
and its parameters and accuracy saved as `<dataset>-classifier-<VERSION>.msgpack` in the
cache folder (jaxgan/data/datasets/_cache.py).
Later uses load that file. Change VERSION whenever the network or its training changes.
"""

import functools
import pathlib

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgan.data.datasets import _cache, fashion_mnist, mnist, mnist_thick
from jaxgan.metrics.featurize import say
from jaxgan.runtime import files

VERSION = "v1"
EPOCHS = 3
BATCH_SIZE = 128
LEARNING_RATE = 3e-3
SEED = 0
EVAL_BATCH_SIZE = 1000
NUM_CLASSES = 10  # digits, or Fashion-MNIST's ten kinds of clothing


class DigitClassifier(nn.Module):
    """conv3x3(16)-ReLU-maxpool, conv3x3(32)-ReLU-maxpool, dense 128-ReLU, dense 10."""

    widths: tuple[int, ...] = (16, 32)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for features in self.widths:
            x = nn.relu(nn.Conv(features, (3, 3))(x))
            x = nn.max_pool(x, (2, 2), (2, 2))
        x = nn.relu(nn.Dense(128)(x.reshape(x.shape[0], -1)))
        return nn.Dense(NUM_CLASSES)(x)


def to_input(images: np.ndarray) -> jax.Array:
    """uint8 (N, 28, 28, 1) to float32 in [0, 1]."""
    return jnp.asarray(images, jnp.float32) / 255.0


@jax.jit
def _logits(params, images: jax.Array) -> jax.Array:
    return DigitClassifier().apply({"params": params}, to_input(images))


def predict(params, images: np.ndarray) -> np.ndarray:
    """Digits of uint8 (N, 28, 28, 1) images, in batches."""
    out = []
    for start in range(0, len(images), EVAL_BATCH_SIZE):
        batch = images[start : start + EVAL_BATCH_SIZE]
        out.append(np.asarray(jnp.argmax(_logits(params, batch), axis=-1)))
    return np.concatenate(out) if out else np.zeros((0,), np.int64)


def classify_channels(params, images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28, 3) stacked images -> (N, 3) digits, one per channel."""
    channels = [predict(params, images[..., c : c + 1]) for c in range(images.shape[-1])]
    return np.stack(channels, axis=1)


def train(images: np.ndarray, labels: np.ndarray, epochs: int = EPOCHS, seed: int = SEED):
    """Parameters trained with Adam and a cosine-decayed learning rate, from `seed`."""
    steps_per_epoch = len(images) // BATCH_SIZE
    tx = optax.adam(optax.cosine_decay_schedule(LEARNING_RATE, epochs * steps_per_epoch))
    model = DigitClassifier()
    params = model.init(jax.random.key(seed), to_input(images[:1]))["params"]
    opt_state = tx.init(params)

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def step(params, opt_state, x, y):
        def loss(p):
            logits = model.apply({"params": p}, to_input(x))
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        grads = jax.grad(loss)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(images))
        for i in range(steps_per_epoch):
            chosen = order[i * BATCH_SIZE : (i + 1) * BATCH_SIZE]
            params, opt_state = step(params, opt_state, images[chosen], labels[chosen])
    return params


def accuracy(params, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predict(params, images) == labels))


def _fashion_mnist_splits(data_dir: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    directory = pathlib.Path(data_dir or fashion_mnist.DEFAULT_DIR).expanduser()
    return {split: fashion_mnist.load_split(directory, split) for split in ("train", "test")}


def _thick_mnist_splits(data_dir: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """MNIST's splits with every digit thickened (mnist_thick's domain B)."""
    del data_dir
    splits = mnist.load_splits()
    return {
        split: (mnist_thick.thicken(splits[split][0]), splits[split][1])
        for split in ("train", "test")
    }


# The datasets a classifier can be trained on: name -> (data_dir -> {"train", "test"}).
SPLITS = {
    "mnist": lambda data_dir: mnist.load_splits(),
    "fashion_mnist": _fashion_mnist_splits,
    "thick_mnist": _thick_mnist_splits,
}


def cache_path(dataset: str = "mnist"):
    return _cache.cache_dir() / f"{dataset}-classifier-{VERSION}.msgpack"


def load_or_train(dataset: str = "mnist", data_dir: str = "") -> tuple[dict, float]:
    """(parameters, test accuracy) of `dataset`'s classifier from the cache, or trained
    now (on its files in `data_dir`, where the dataset takes one) and cached."""
    path = cache_path(dataset)
    if path.is_file():
        try:
            stored = flax.serialization.msgpack_restore(path.read_bytes())
            return stored["params"], float(stored["accuracy"])
        except (ValueError, KeyError, TypeError):
            pass  # damaged: trained again below and replaced
    splits = SPLITS[dataset](data_dir)
    say(f"training the {dataset} classifier ({EPOCHS} epochs of its training split)...")
    params = train(*splits["train"])
    test_accuracy = accuracy(params, *splits["test"])
    say(f"{dataset} classifier: {100 * test_accuracy:.2f}% test accuracy; cached in {path}")
    record = {"params": jax.device_get(params), "accuracy": test_accuracy}
    _cache.writable_dir()
    files.write_atomically(path, lambda f: f.write(flax.serialization.msgpack_serialize(record)))
    return params, test_accuracy
