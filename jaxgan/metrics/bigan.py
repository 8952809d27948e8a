"""The bigan family's evaluator: how well E inverts G, and how useful E's features are.

As BiGAN's code measures them (github.com/jeffdonahue/bigan, `train_gan.py`
`eval_and_disp`, `lib/metrics.py`), with the nets in test mode, their BatchNorm
statistics those of the reference's `deploy()`: the average of the batch means and
(unbiased) variances of 1000 training batches through the train-mode nets at the
evaluated weights (E on shuffled training images, G on fresh z), not the running
averages kept in training:
  nn_accuracy   1-nearest-neighbour classification accuracy of E's output (the 50-d
                linear output before 2 sigmoid - 1, the code's NNC_e), Euclidean
                distance; gallery: the training images; queries: the held-out split
                (`mnist:valid` for a run on `mnist:train50k`, as the reference's,
                else the dataset's `test` split)
  nn_accuracy_hidden  the same with E's last hidden layer (1024 features for the MLP,
                after BatchNorm and LeakyReLU; the code's NNC_e-)
  recon_error   mean over the held-out images of ||x - G(E(x))||_2, pixels in [0, 1] (EGr)
  recon_error_baseline  the distance of each reconstruction to the next image of its
                batch of 128 instead (EGr_b: ||x_next - G(E(x))||), which recon_error
                should be far below
"""

import dataclasses
from collections.abc import Iterator

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from jaxgan.data import datasets
from jaxgan.data import pipeline as input_pipeline
from jaxgan.runtime.errors import UserError

METRICS = (
    "nn_accuracy",
    "nn_accuracy_hidden",
    "recon_error",
    "recon_error_baseline",
    "recon_ratio",
)
BATCH_SIZE = 500


def _batches(images: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(images), batch_size):
        yield images[start : start + batch_size]


def _apply(module, net, *inputs):
    return module.apply({"params": net.params, **net.collections}, *inputs, train=False)


@dataclasses.dataclass(frozen=True)
class Nets:
    """E and G of a restored run, as test-mode functions."""

    encode: callable  # images in [-1, 1] -> E's raw outputs (the mean, for a Gaussian E)
    reconstruct: callable  # images in [-1, 1] -> G(E(x)) in [-1, 1]
    features: callable = None  # images in [-1, 1] -> E's features before its output layer


DEPLOY_BATCHES = 1000  # the reference scripts' --deploy_iters
DEPLOY_BATCH_SIZE = 128


def deploy_statistics(restored, images: np.ndarray, num_batches: int = DEPLOY_BATCHES, seed=0):
    """{"e": collections, "g": collections}: the reference's test-time BatchNorm
    statistics (see the module's docstring), from `images` (the training set, uint8)."""
    from jaxgan.families import bigan

    config, state = restored.config, restored.state
    modules = {name: restored.nets[name].clone(bn_momentum=0.0) for name in ("e", "g")}
    variables = {"e": state.nets["e"], "g": restored.net}

    @jax.jit
    def batch_statistics(x, z):
        # With momentum 0 the "running" statistics a train-mode pass stores are its batch's.
        stored = {}
        for name, inputs in (("e", x), ("g", z)):
            net = variables[name]
            _, stored[name] = modules[name].apply(
                {"params": net.params, **net.collections},
                inputs,
                train=True,
                mutable=["batch_stats"],
            )
        return stored

    rng, key = np.random.default_rng(seed), jax.random.key(seed)
    total = None
    for index in range(num_batches):
        x = as_float(images[rng.choice(len(images), DEPLOY_BATCH_SIZE, replace=False)], config)
        z = bigan.prior(jax.random.fold_in(key, index), DEPLOY_BATCH_SIZE, config)
        stats = batch_statistics(x, z)
        total = stats if total is None else jax.tree.map(jnp.add, total, stats)
    n = DEPLOY_BATCH_SIZE
    unbiased = n / (n - 1)  # the reference averages unbiased batch variances

    def average(path, leaf):
        scale = unbiased if path[-1].key == "var" else 1.0
        return leaf / num_batches * scale

    return jax.tree_util.tree_map_with_path(average, total)


def nets_of(restored, statistics: dict | None = None) -> Nets:
    """E and G in test mode, with `statistics` (deploy_statistics) as their BatchNorm
    statistics, or the running averages of training when None."""
    from jaxgan.families import bigan

    config, state = restored.config, restored.state
    e_module, g_module = restored.nets["e"], restored.nets["g"]
    latent = config.latent_dim
    e_net, g_net = state.nets["e"], restored.net
    if statistics is not None:
        e_net = e_net.replace(collections=statistics["e"])
        g_net = g_net.replace(collections=statistics["g"])

    @jax.jit
    def encode(e, images):
        return _apply(e_module, e, images)[..., :latent]  # the mean of a Gaussian E

    @jax.jit
    def features(e, images):
        # E's last hidden layer: its last BatchNorm's output through the LeakyReLU.
        _, captured = e_module.apply(
            {"params": e.params, **e.collections},
            images,
            train=False,
            capture_intermediates=lambda module, _: isinstance(module, nn.BatchNorm),
            mutable=["intermediates"],
        )
        last = sorted(captured["intermediates"])[-1]
        hidden = nn.leaky_relu(captured["intermediates"][last]["__call__"][0], 0.2)
        return hidden.reshape(hidden.shape[0], -1)

    @jax.jit
    def reconstruct(e, g, images):
        z = bigan.code(_apply(e_module, e, images), config, None)
        return _apply(g_module, g, z)

    return Nets(
        encode=lambda images: encode(e_net, images),
        reconstruct=lambda images: reconstruct(e_net, g_net, images),
        features=lambda images: features(e_net, images),
    )


def as_float(images: np.ndarray, config: ml_collections.ConfigDict) -> np.ndarray:
    """uint8 dataset images -> the float [-1, 1] images training feeds the nets."""
    fitted = input_pipeline.fit_images(images, config.image_size, config.num_channels)
    return input_pipeline.scaled(fitted, config.num_channels)


def encode_all(nets: Nets, images: np.ndarray, config, layer: str = "output") -> np.ndarray:
    """E's outputs ("output") or its last hidden features ("hidden") of every image."""
    function = nets.encode if layer == "output" else nets.features
    return np.concatenate(
        [np.asarray(function(as_float(b, config))) for b in _batches(images, BATCH_SIZE)]
    )


def nearest_neighbour_accuracy(
    queries: np.ndarray, query_labels: np.ndarray, gallery: np.ndarray, gallery_labels: np.ndarray
) -> float:
    """The fraction of queries whose Euclidean nearest gallery item has their label."""
    gallery_sq = jnp.sum(jnp.asarray(gallery) ** 2, axis=1)
    nearest = jax.jit(
        lambda q: jnp.argmin(gallery_sq[None, :] - 2 * q @ jnp.asarray(gallery).T, axis=1)
    )
    found = np.concatenate([np.asarray(nearest(q)) for q in _batches(queries, BATCH_SIZE)])
    return float(np.mean(gallery_labels[found] == query_labels))


RECON_BATCH_SIZE = 128  # the reference's batch, within which "next" is taken


def reconstruction_errors(nets: Nets, images: np.ndarray, config) -> tuple[float, float]:
    """(mean ||x - G(E(x))||, mean ||x_next - G(E(x))||), pixels in [0, 1]; x_next is
    the next image of x's batch (the last's is the first's), as the reference's EGr_b."""
    errors, baselines = [], []
    for batch in _batches(images, RECON_BATCH_SIZE):
        x = as_float(batch, config)
        unit = (x + 1) / 2
        recon = (np.asarray(nets.reconstruct(x)) + 1) / 2
        errors.append(np.linalg.norm((unit - recon).reshape(len(x), -1), axis=1))
        following = np.roll(unit, -1, axis=0)
        baselines.append(np.linalg.norm((following - recon).reshape(len(x), -1), axis=1))
    return float(np.mean(np.concatenate(errors))), float(np.mean(np.concatenate(baselines)))


# Training sets whose held-out split is not NAME:test.
HELD_OUT = {"mnist:train50k": "mnist:valid"}


def held_out_split(config: ml_collections.ConfigDict) -> datasets.Dataset:
    name = config.dataset.split(":")[0]
    test = config.copy_and_resolve_references()
    test.dataset = HELD_OUT.get(config.dataset, f"{name}:test")
    try:
        dataset = datasets.load(test)
    except UserError as error:
        raise UserError(
            f"the bigan evaluator needs a test split of {name} with labels ({error})"
        ) from error
    if dataset.labels is None:
        raise UserError(f"the bigan evaluator needs labels: {name}:test has none")
    return dataset


def record(restored) -> dict[str, float]:
    """The bigan metrics of a restored run (see the module's docstring)."""
    config = restored.config
    train, test = datasets.load(config), held_out_split(config)
    if train.labels is None:
        raise UserError(f"the bigan evaluator needs labels: {config.dataset} has none")
    nets = nets_of(restored, deploy_statistics(restored, train.images))
    accuracy = {}
    for layer in ("output", "hidden"):
        gallery = encode_all(nets, train.images, config, layer)
        queries = encode_all(nets, test.images, config, layer)
        accuracy[layer] = nearest_neighbour_accuracy(queries, test.labels, gallery, train.labels)
    error, baseline = reconstruction_errors(nets, test.images, config)
    return {
        "nn_accuracy": accuracy["output"],
        "nn_accuracy_hidden": accuracy["hidden"],
        "recon_error": error,
        "recon_error_baseline": baseline,
        "recon_ratio": error / baseline,
    }
