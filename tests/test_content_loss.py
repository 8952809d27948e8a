"""SRGAN's content losses (jaxgan/objectives/content.py) and the frozen inputs that carry
their network into the train step.

The VGG19 file tests build torchvision-layout state dicts with CPU torch (random
weights: torchvision itself and its downloads are not available here) and compare the
features with torch's own convolutions; without torch they are skipped (CI's torch
phase runs them)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.families import srgan
from jaxgan.metrics import inception_weights
from jaxgan.objectives import content
from jaxgan.runtime.errors import UserError
from jaxgan.training import loop as train
from jaxgan.training.state import create_train_state
from jaxgan.training.step import make_train_step
from tests.test_srgan import tiny


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXGAN_CACHE_DIR", str(tmp_path / "cache"))


def random_vgg19(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-scaled random (weight (out, in, 3, 3), bias) of VGG19's 16 convolutions."""
    rng = np.random.default_rng(seed)
    return [
        (
            (rng.normal(size=shape) * np.sqrt(2 / (shape[1] * 9))).astype(np.float32),
            (rng.normal(size=shape[:1]) * 0.1).astype(np.float32),
        )
        for shape in content.conv_shapes()
    ]


def write_converted_cache(convs) -> None:
    """A converted cache as `content.convert` writes it, from arrays (no torch)."""
    arrays = {}
    for number, (weight, bias) in enumerate(convs):
        arrays[f"conv{number}_kernel"] = weight.transpose(2, 3, 1, 0)
        arrays[f"conv{number}_bias"] = bias
    path = content.converted_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    inception_weights.write_checksum(path)


def numpy_features(convs, images: np.ndarray) -> np.ndarray:
    """phi_5,4 by NumPy loops over the 3x3 taps (NHWC), as torchvision's features[:36]."""
    x = (np.repeat(images, 3, -1) + 1) / 2 if images.shape[-1] == 1 else (images + 1) / 2
    x = (x - content.IMAGENET_MEAN) / content.IMAGENET_STD
    layer = 0
    for block_number, block in enumerate(content.BLOCKS):
        for _ in block:
            weight, bias = convs[layer]
            padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
            h, w = x.shape[1:3]
            out = sum(
                np.einsum("nhwi,oi->nhwo", padded[:, a : a + h, b : b + w], weight[:, :, a, b])
                for a in range(3)
                for b in range(3)
            )
            x = np.maximum(out + bias, 0)
            layer += 1
        if block_number < 4:
            n, h, w, c = x.shape
            x = x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))
    return x


def test_vgg19_features_and_loss_by_the_definition():
    convs = random_vgg19()
    write_converted_cache(convs)
    params = content.load_vgg19(None)
    images = np.random.default_rng(1).uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    other = np.random.default_rng(2).uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    got = np.asarray(content.vgg19_features(params, jnp.asarray(images)))
    expected = numpy_features(convs, images.astype(np.float64))
    assert got.shape == (2, 2, 2, 512)
    np.testing.assert_allclose(got, expected, rtol=2e-3, atol=2e-3 * np.abs(expected).max())
    loss = float(content.vgg_loss(params, jnp.asarray(images), jnp.asarray(other)))
    reference = np.mean(((expected - numpy_features(convs, other.astype(np.float64))) / 12.75) ** 2)
    assert loss == pytest.approx(reference, rel=1e-2)


def test_a_missing_vgg19_file_stops_training_before_the_workdir_is_made(tmp_path):
    config = tiny(tmp_path, srgan_stage="gan", srgan_content="vgg")
    with pytest.raises(UserError, match="needs VGG19's weights, and none were given yet"):
        train.train_and_evaluate(config, tmp_path / "run")
    config.srgan_vgg_weights = str(tmp_path / "nope.pth")
    with pytest.raises(UserError, match=r"nope.pth does not exist; give torchvision's VGG19"):
        train.train_and_evaluate(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_the_loss_network_is_a_step_argument_not_part_of_the_state(tmp_path):
    write_converted_cache(random_vgg19())
    config = tiny(tmp_path, srgan_stage="gan", srgan_content="vgg")
    state = create_train_state(config)
    sizes = [a.size for a in jax.tree.leaves(state)]
    assert max(sizes) < 2_359_296  # VGG's conv5 kernels (3 x 3 x 512 x 512) are not in it
    frozen = srgan.frozen_inputs(config)
    step = make_train_step(config)
    rng = np.random.default_rng(0)
    batch = {
        "image": rng.uniform(-1, 1, (1, 4, 16, 16, 1)).astype(np.float32),
        "low": rng.uniform(-1, 1, (1, 4, 4, 4, 1)).astype(np.float32),
    }
    before = jax.device_get(state)
    _, metrics = step(state, batch, frozen)
    g = srgan.build(config)["g"]
    # Jitted: op by op, VGG-19 and G took most of this test's time.
    output = jax.jit(functools.partial(g.apply, train=True, mutable=["batch_stats"]))(
        {"params": before.nets["g"].params, **before.nets["g"].collections}, batch["low"][0]
    )[0]
    expected = jax.jit(content.vgg_loss)(frozen["content"], output, batch["image"][0])
    assert float(metrics["g_content"]) == pytest.approx(float(expected), rel=1e-4)
    # The compiled program takes the weights as arguments: 16 kernels and 16 biases, and
    # its text is far smaller than their 80 MB would make it as constants.
    lowered = step.lower(state, batch, frozen)
    assert len(jax.tree.leaves(lowered.args_info[0][2])) == 32
    assert len(lowered.as_text()) < 20_000_000


# --- torchvision files (CPU torch builds them) ----------------------------------------


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def torchvision_state(torch, convs, classifier=True):
    state = {}
    for index, (weight, bias) in zip(content.FEATURE_INDICES, convs, strict=True):
        state[f"features.{index}.weight"] = torch.from_numpy(weight)
        state[f"features.{index}.bias"] = torch.from_numpy(bias)
    if classifier:  # torchvision's vgg19 carries its classifier too (ignored here)
        state["classifier.6.weight"] = torch.zeros(1000, 4096)
        state["classifier.6.bias"] = torch.zeros(1000)
    return state


def torch_features(torch, convs, images: np.ndarray) -> np.ndarray:
    """torchvision's vgg19.features[:36] in torch: conv, ReLU, 2x2 max pooling."""
    functional = torch.nn.functional
    x = torch.from_numpy(images).permute(0, 3, 1, 2).repeat(1, 3, 1, 1)
    mean = torch.tensor(content.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(content.IMAGENET_STD).view(1, 3, 1, 1)
    x = ((x + 1) / 2 - mean) / std
    layer = 0
    for block_number, block in enumerate(content.BLOCKS):
        for _ in block:
            weight, bias = convs[layer]
            x = functional.relu(
                functional.conv2d(x, torch.from_numpy(weight), torch.from_numpy(bias), padding=1)
            )
            layer += 1
        if block_number < 4:
            x = functional.max_pool2d(x, 2)
    return x.permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize("zip_format", [True, False])
def test_a_torchvision_file_converts_and_its_features_equal_torchs(torch, tmp_path, zip_format):
    convs = random_vgg19(3)
    path = tmp_path / "vgg19.pth"
    torch.save(torchvision_state(torch, convs), path, _use_new_zipfile_serialization=zip_format)
    params = content.load_vgg19(str(path))
    images = np.random.default_rng(4).uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    got = np.asarray(content.vgg19_features(params, jnp.asarray(images)))
    expected = torch_features(torch, convs, images)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    assert (content.converted_path().parent / (content.CONVERTED_NAME + ".sha256")).is_file()


def test_truncated_and_other_networks_torch_files_are_refused(torch, tmp_path):
    convs = random_vgg19(5)
    path = tmp_path / "vgg19.pth"
    torch.save(torchvision_state(torch, convs), path)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UserError, match="is not a readable VGG19 weights file"):
        content.load_vgg19(str(truncated))
    # VGG16: three convolutions fewer, so features.34 is missing.
    vgg16 = {k: v for k, v in torchvision_state(torch, convs).items() if "features.34" not in k}
    torch.save(vgg16, tmp_path / "vgg16.pth")
    with pytest.raises(UserError, match="KeyError.*features.34"):
        content.load_vgg19(str(tmp_path / "vgg16.pth"))
    wrong = torchvision_state(torch, convs)
    wrong["features.0.weight"] = torch.zeros(32, 3, 3, 3)
    torch.save(wrong, tmp_path / "narrow.pth")
    with pytest.raises(UserError, match=r"features.0 is \(32, 3, 3, 3\), VGG19's is"):
        content.load_vgg19(str(tmp_path / "narrow.pth"))
    assert not content.converted_path().exists()


def test_a_vgg_run_trains_through_the_loop_and_checkpoints_no_vgg_weights(tmp_path):
    write_converted_cache(random_vgg19(6))
    config = tiny(tmp_path, srgan_stage="gan", srgan_content="vgg")
    train.train_and_evaluate(config, tmp_path / "run")
    assert (tmp_path / "run" / "samples").is_dir()
    checkpoint = tmp_path / "run" / "checkpoints" / "2"
    size = sum(f.stat().st_size for f in checkpoint.rglob("*") if f.is_file())
    assert size < 20_000_000  # VGG19's 80 MB would be in it as state
