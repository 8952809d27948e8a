"""Every dataset on small data made here: values and labels as constructed, the folder
cache, label plumbing into the input pipeline, and one clear error per bad input."""

import gzip
import io
import json
import os
import pathlib
import shutil

import hypothesis
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from PIL import Image

from jaxgan.config import validation as config_validation
from jaxgan.data import datasets
from jaxgan.data import pipeline as input_pipeline
from jaxgan.data.datasets import _fit, _idx, folder
from jaxgan.runtime.errors import UserError
from tests.conftest import tiny


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXGAN_CACHE_DIR", str(tmp_path / "cache"))


def load(dataset, **overrides):
    return datasets.load(tiny(dataset=dataset, **overrides))


def test_new_datasets_are_known_names_and_helpers_are_not():
    assert {"fashion_mnist", "folder", "npz", "tfds", "mnist"} <= set(datasets.available())
    assert not [name for name in datasets.available() if name.startswith("_")]
    config_validation.validate(tiny(dataset="folder:/a/b:c"))


# --- IDX / fashion_mnist ------------------------------------------------------------


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(_idx.DTYPES[code]).tobytes()


def write_fashion(directory: pathlib.Path, split="train", n=5, gz=True, labels=None):
    directory.mkdir(parents=True, exist_ok=True)
    prefix = {"train": "train", "test": "t10k"}[split]
    images = (np.arange(n * 28 * 28) % 251).astype(np.uint8).reshape(n, 28, 28)
    labels = np.arange(n) % 10 if labels is None else labels
    for name, array in [("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)]:
        data = idx_bytes(array)
        path = directory / f"{prefix}-{name}"
        if gz:
            (path.parent / (path.name + ".gz")).write_bytes(gzip.compress(data))
        else:
            path.write_bytes(data)
    return images, labels


@pytest.mark.parametrize("gz", [True, False])
def test_fashion_mnist_reads_the_idx_files_in_data_dir(tmp_path, gz):
    images, labels = write_fashion(tmp_path / "fm", n=5, gz=gz)
    dataset = load("fashion_mnist", data_dir=str(tmp_path / "fm"))
    np.testing.assert_array_equal(dataset.images[..., 0], images)
    np.testing.assert_array_equal(dataset.labels, labels)
    assert dataset.labels.dtype == np.int32 and dataset.num_classes == 10
    test_images, _ = write_fashion(tmp_path / "fm", split="test", n=3, gz=gz)
    assert len(load("fashion_mnist:test", data_dir=str(tmp_path / "fm"))) == 3


@pytest.mark.skipif(
    not (pathlib.Path("/usr/share/datasets/fashion-mnist") / "t10k-labels-idx1-ubyte.gz").exists(),
    reason="Debian's dataset-fashion-mnist is not installed",
)
def test_fashion_mnist_from_the_debian_package():
    dataset = load("fashion_mnist:test")
    assert dataset.images.shape == (10000, 28, 28, 1)
    assert np.bincount(dataset.labels).tolist() == [1000] * 10


@hypothesis.settings(max_examples=40, deadline=None)
@hypothesis.given(
    code=st.sampled_from(sorted(_idx.DTYPES)),
    shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5),
    data=st.data(),
)
def test_idx_round_trips_every_type_and_shape(code, shape, data):
    array = data.draw(hnp.arrays(_idx.DTYPES[code].newbyteorder("="), shape))
    parsed = _idx.parse_idx(idx_bytes(array, code))
    np.testing.assert_array_equal(parsed, array)
    assert parsed.dtype.isnative and parsed.shape == shape


@pytest.mark.parametrize(
    "data,expected",
    [
        (b"\x08\x03\x00\x00", "not an IDX file"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "not an IDX file"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "header of 3 dimensions is cut short"),
        (idx_bytes(np.zeros((2, 3), np.uint8))[:-1], "truncated: shape (2, 3) of uint8 needs 6"),
        (idx_bytes(np.zeros((2, 3), np.uint8)) + b"\0", "longer than its header says"),
    ],
)
def test_bad_idx_data_is_a_clear_error(data, expected):
    with pytest.raises(UserError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        _idx.parse_idx(data, "x")


def test_truncated_fashion_files_name_the_file(tmp_path):
    write_fashion(tmp_path, gz=False)
    images_file = tmp_path / "train-images-idx3-ubyte"
    images_file.write_bytes(images_file.read_bytes()[:1000])
    with pytest.raises(UserError, match=f"{images_file} is truncated"):
        load("fashion_mnist", data_dir=str(tmp_path))
    write_fashion(tmp_path / "gz")
    gz_file = tmp_path / "gz" / "train-images-idx3-ubyte.gz"
    gz_file.write_bytes(gz_file.read_bytes()[:100])
    with pytest.raises(UserError, match="damaged or truncated gzip"):
        load("fashion_mnist", data_dir=str(tmp_path / "gz"))


def test_fashion_mnist_bad_inputs(tmp_path):
    with pytest.raises(UserError, match="apt-get install dataset-fashion-mnist"):
        load("fashion_mnist", data_dir=str(tmp_path / "absent"))
    with pytest.raises(UserError, match="splits"):
        load("fashion_mnist:validation", data_dir=str(tmp_path))
    write_fashion(tmp_path, n=4, labels=np.arange(3))
    with pytest.raises(UserError, match="one label per image"):
        load("fashion_mnist", data_dir=str(tmp_path))


# --- folder ---------------------------------------------------------------------------


def image_bytes(pixels: np.ndarray, format: str) -> bytes:
    buffer = io.BytesIO()
    options = {"lossless": True} if format == "WEBP" else {}
    Image.fromarray(pixels).save(buffer, format=format, **options)
    return buffer.getvalue()


def solid(value, size=(12, 12), channels=1):
    shape = size if channels == 1 else (*size, channels)
    return np.full(shape, value, np.uint8)


@pytest.fixture
def image_folder(tmp_path):
    """cat/: grey PNGs of value 50 (one nested deeper); dog/: RGB JPEG and WebP of 200."""
    root = tmp_path / "images"
    (root / "cat" / "deeper").mkdir(parents=True)
    (root / "dog").mkdir()
    (root / "cat" / "a.png").write_bytes(image_bytes(solid(50), "PNG"))
    (root / "cat" / "deeper" / "b.png").write_bytes(image_bytes(solid(50, (30, 12)), "PNG"))
    (root / "dog" / "c.jpg").write_bytes(image_bytes(solid(200, channels=3), "JPEG"))
    (root / "dog" / "d.webp").write_bytes(image_bytes(solid(200, (9, 20), 3), "WEBP"))
    (root / ".hidden").mkdir()
    (root / ".hidden" / "junk.txt").write_text("not an image, but hidden")
    return root


def test_folder_decodes_every_format_squares_them_and_labels_by_subfolder(image_folder):
    dataset = load(f"folder:{image_folder}", image_size=8, folder_labels=True)
    assert dataset.images.shape == (4, 8, 8, 1) and dataset.num_classes == 2
    np.testing.assert_array_equal(dataset.labels, [0, 0, 1, 1])  # cat/a, cat/deeper/b, dog/...
    np.testing.assert_array_equal(dataset.images[:2], 50)
    np.testing.assert_allclose(dataset.images[2:], 200, atol=2)  # JPEG is lossy
    unlabelled = load(f"folder:{image_folder}", image_size=8)
    assert unlabelled.labels is None and unlabelled.num_classes == 0


def test_folder_channels_crop_and_transparency(tmp_path):
    root = tmp_path / "images"
    root.mkdir()
    # 30 wide, 10 high: red | green | blue thirds; the centred square is the green one.
    wide = np.zeros((10, 30, 3), np.uint8)
    wide[:, :10, 0], wide[:, 10:20, 1], wide[:, 20:, 2] = 255, 255, 255
    (root / "a.png").write_bytes(image_bytes(wide, "PNG"))
    clear = np.zeros((10, 10, 4), np.uint8)  # fully transparent black
    (root / "b.png").write_bytes(image_bytes(clear, "PNG"))
    rgb = load(f"folder:{root}", image_size=10, num_channels=3).images
    np.testing.assert_array_equal(rgb[0, 1:-1, 1:-1], [[[0, 255, 0]] * 8] * 8)
    np.testing.assert_array_equal(rgb[1], 255)  # over white
    grey = load(f"folder:{root}", image_size=10, num_channels=1).images
    assert grey.shape == (2, 10, 10, 1)
    np.testing.assert_array_equal(grey[0, 1:-1, 1:-1], 150)  # 0.587 * 255, as fit_images
    np.testing.assert_array_equal(grey[1], 255)
    grey_alpha = np.zeros((6, 6, 2), np.uint8)  # grey + alpha, transparent: stays grey
    np.testing.assert_array_equal(_fit.fit_array(grey_alpha, 3), np.full((3, 3, 1), 255))
    # The input pipeline leaves these images as they are.
    np.testing.assert_array_equal(input_pipeline.fit_images(rgb, 10, 3), rgb)


def test_folder_labels_reach_the_real_batches(image_folder):
    config = tiny(dataset=f"folder:{image_folder}", image_size=8, folder_labels=True, batch_size=4)
    batch = next(input_pipeline.real_batches(datasets.load(config), config, 0))
    for image, label in zip(batch["image"][0], batch["label"][0], strict=True):
        expected = {0: 50, 1: 200}[int(label)] / 127.5 - 1
        np.testing.assert_allclose(image, expected, atol=2 / 127.5)


def test_folder_cache_is_reused_and_refreshed_when_a_file_changes(image_folder, monkeypatch):
    first = load(f"folder:{image_folder}", image_size=8)
    cache = pathlib.Path(os.environ["JAXGAN_CACHE_DIR"])
    assert len(list(cache.glob("folder-images-*.npz"))) == 1

    def no_decoding(*args):
        raise AssertionError("decoded again")

    monkeypatch.setattr(folder, "decode_image", no_decoding)
    again = load(f"folder:{image_folder}", image_size=8)
    np.testing.assert_array_equal(again.images, first.images)
    touched = image_folder / "cat" / "a.png"
    os.utime(touched, ns=(1, 1))
    with pytest.raises(AssertionError, match="decoded again"):
        load(f"folder:{image_folder}", image_size=8)


@pytest.mark.parametrize(
    "name,content,problem",
    [
        ("cat/notes.txt", b"hello", "is not an image Pillow can read"),
        ("cat/broken.png", image_bytes(solid(9, (64, 64)), "PNG")[:60], "cannot be decoded"),
        ("cat/truncated.jpg", image_bytes(solid(9, (64, 64)), "JPEG")[:300], "cannot be decoded"),
        ("cat/old.gif", image_bytes(solid(9), "GIF"), "is a GIF image, not PNG, JPEG or WebP"),
    ],
    ids=["text", "broken-png", "truncated-jpeg", "gif"],
)
def test_bad_files_stop_the_load_naming_them_unless_skipped(
    image_folder, capsys, name, content, problem
):
    (image_folder / name).write_bytes(content)
    with pytest.raises(UserError, match=f"{image_folder / name} {problem}.*folder_skip_bad_files"):
        load(f"folder:{image_folder}", image_size=8)
    dataset = load(f"folder:{image_folder}", image_size=8, folder_skip_bad_files=True)
    assert len(dataset) == 4
    assert f"skipped 1 of 5 files in {image_folder}" in capsys.readouterr().err
    # The cache written while skipping does not make a later strict load silent.
    with pytest.raises(UserError, match=f"{image_folder / name} {problem}"):
        load(f"folder:{image_folder}", image_size=8)


def test_folder_bad_inputs(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no files"):
        load(f"folder:{tmp_path / 'empty'}")
    with pytest.raises(UserError, match="does not exist"):
        load(f"folder:{tmp_path / 'absent'}")
    with pytest.raises(UserError, match="needs the folder's path"):
        load("folder")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(image_bytes(solid(1), "PNG"))
    with pytest.raises(UserError, match="a.png is not in a class sub-folder"):
        load(f"folder:{tmp_path / 'flat'}", folder_labels=True)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.txt").write_text("x")
    with pytest.raises(UserError, match="holds no readable PNG, JPEG or WebP image"):
        load(f"folder:{tmp_path / 'junk'}", folder_skip_bad_files=True)


# --- npz ------------------------------------------------------------------------------


def test_npz_images_and_labels(tmp_path):
    images = np.arange(3 * 4 * 4, dtype=np.uint8).reshape(3, 4, 4)
    np.savez(tmp_path / "d.npz", images=images, labels=np.array([2, 0, 4]))
    dataset = load(f"npz:{tmp_path / 'd.npz'}", image_size=4)
    np.testing.assert_array_equal(dataset.images[..., 0], images)
    np.testing.assert_array_equal(dataset.labels, [2, 0, 4])
    assert dataset.labels.dtype == np.int32 and dataset.num_classes == 5
    np.savez(tmp_path / "rgb.npz", images=np.zeros((2, 4, 4, 3), np.uint8))
    rgb = load(f"npz:{tmp_path / 'rgb.npz'}")
    assert rgb.images.shape == (2, 4, 4, 3) and rgb.labels is None


@pytest.mark.parametrize(
    "arrays,expected",
    [
        ({"pixels": np.zeros((2, 4, 4), np.uint8)}, r"no 'images' array, only \['pixels'\]"),
        ({"images": np.zeros((2, 4, 4), np.float32)}, "must be uint8"),
        ({"images": np.zeros((2, 4, 4, 2), np.uint8)}, r"got shape \(2, 4, 4, 2\)"),
        ({"images": np.zeros((4, 4), np.uint8)}, r"got shape \(4, 4\)"),
        ({"images": np.zeros((2, 4, 4), np.uint8), "labels": np.zeros(3, int)}, "one per image"),
        ({"images": np.zeros((2, 4, 4), np.uint8), "labels": np.ones(2)}, "must be integers"),
        ({"images": np.zeros((2, 4, 4), np.uint8), "labels": np.array([0, -1])}, "0..K-1"),
        ({"images": np.array([None, 1], dtype=object)}, "cannot be read"),
    ],
)
def test_bad_npz_is_a_clear_error(tmp_path, arrays, expected):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(UserError, match=expected):
        load(f"npz:{path}")


def test_npz_that_is_not_an_npz(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(UserError, match="one .npy array, not an .npz"):
        load(f"npz:{tmp_path / 'a.npy'}")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(UserError, match="not a readable .npz"):
        load(f"npz:{tmp_path / 'text.npz'}")
    with pytest.raises(UserError, match="does not exist"):
        load(f"npz:{tmp_path / 'absent.npz'}")


# --- tfds -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tfds():
    return pytest.importorskip("tensorflow_datasets")


def test_tfds_mock_data_without_tensorflow(tfds):
    # TensorFlow is no dependency and is not installed where this suite runs.
    with tfds.testing.mock_data(num_examples=6, policy=tfds.testing.MockPolicy.USE_CODE):
        dataset = load("tfds:mnist")
        source = tfds.data_source("mnist", split="train")
        expected = np.stack([source[i]["image"] for i in range(6)])
        expected_labels = [int(source[i]["label"]) for i in range(6)]
    np.testing.assert_array_equal(dataset.images, expected)
    np.testing.assert_array_equal(dataset.labels, expected_labels)
    assert dataset.images.shape == (6, 28, 28, 1) and dataset.num_classes == 10


@pytest.fixture(scope="module")
def prepared_tfds(tfds, tmp_path_factory):
    """A real ArrayRecord dataset, built here without TensorFlow (images given as PNG
    bytes, which TFDS stores as they are): train image i is 8x8 of value 10*i, label i%3."""
    data_dir = tmp_path_factory.mktemp("tfds")

    def png(value):
        return image_bytes(solid(value, (8, 8)), "PNG")

    with tfds.core.registered.skip_registration():

        class JaxganTiny(tfds.core.GeneratorBasedBuilder):
            VERSION = tfds.core.Version("1.0.0")

            def _info(self):
                features = {
                    "image": tfds.features.Image(shape=(8, 8, 1)),
                    "label": tfds.features.ClassLabel(num_classes=3),
                }
                return tfds.core.DatasetInfo(
                    builder=self, features=tfds.features.FeaturesDict(features)
                )

            def _split_generators(self, dl_manager):
                return {"train": self._generate_examples(5), "test": self._generate_examples(2)}

            def _generate_examples(self, n):
                for i in range(n):
                    yield i, {"image": png(10 * i), "label": i % 3}

        JaxganTiny(data_dir=data_dir, file_format="array_record").download_and_prepare()
    return data_dir


def test_tfds_reads_a_prepared_array_record_dataset(prepared_tfds):
    dataset = load("tfds:jaxgan_tiny", data_dir=str(prepared_tfds), image_size=8)
    assert dataset.images.shape == (5, 8, 8, 1) and dataset.num_classes == 3
    values = dataset.images[:, 0, 0, 0].astype(int)
    assert sorted(values) == [0, 10, 20, 30, 40]
    np.testing.assert_array_equal(dataset.labels, values // 10 % 3)
    assert (dataset.images == values[:, None, None, None]).all()
    resized = load("tfds:jaxgan_tiny:test", data_dir=str(prepared_tfds), image_size=4)
    assert resized.images.shape == (2, 4, 4, 1)
    assert sorted(resized.images[:, 2, 2, 0]) == [0, 10]
    assert len(load("tfds:jaxgan_tiny:train[:3]", data_dir=str(prepared_tfds), image_size=8)) == 3


def test_tfds_bad_inputs(prepared_tfds, tmp_path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    with pytest.raises(UserError) as error:
        load("tfds:mnist", data_dir=str(empty))
    message = str(error.value)
    assert f"not prepared in {empty}/mnist/" in message and "never downloads" in message
    assert "tfds build mnist --file_format=array_record --data_dir=DIR" in message
    assert not list(empty.rglob("*.array_record*"))  # nothing was downloaded
    with pytest.raises(UserError, match="cannot read split 'validation'.*Unknown split"):
        load("tfds:jaxgan_tiny:validation", data_dir=str(prepared_tfds))
    with pytest.raises(UserError, match="TFDS has no dataset 'no_such_dataset'"):
        load("tfds:no_such_dataset", data_dir=str(empty))
    with pytest.raises(UserError, match="needs a dataset name"):
        load("tfds")


def test_tfds_in_tfrecord_format_says_to_prepare_it_again(prepared_tfds, tmp_path):
    # As `tfds build` without --file_format leaves it (writing that needs TensorFlow,
    # so the format is changed in the metadata).
    copy = tmp_path / "tfrecord"
    shutil.copytree(prepared_tfds, copy)
    info_file = copy / "jaxgan_tiny" / "1.0.0" / "dataset_info.json"
    info = json.loads(info_file.read_text())
    info_file.write_text(json.dumps({**info, "fileFormat": "tfrecord"}))
    with pytest.raises(UserError, match="tfrecord format, which needs TensorFlow.*array_record"):
        load("tfds:jaxgan_tiny", data_dir=str(copy))
