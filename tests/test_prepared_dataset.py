"""The prepared-dataset format: `python -m jaxgan.prepare_dataset` and `prepared:DIR`,
read memory-mapped; and config.x_flip."""

import json
import pathlib
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from jaxgan.config import validation as config_validation
from jaxgan.data import datasets, prepare
from jaxgan.data import pipeline as input_pipeline
from jaxgan.data.datasets import prepared
from jaxgan.metrics import reference
from jaxgan.runtime.errors import UserError
from tests.conftest import tiny


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("JAXGAN_CACHE_DIR", str(tmp_path / "cache"))


def numbered_images(count: int, size: int = 8, channels: int = 3) -> np.ndarray:
    """Distinct images: image k is filled with values k, k+1, ... so any mix-up shows."""
    shape = (count, size, size, channels)
    return (
        (np.arange(np.prod(shape)).reshape(shape) * 7 + np.arange(count)[:, None, None, None]) % 256
    ).astype(np.uint8)


def write_pngs(root: pathlib.Path, images: np.ndarray, names=None) -> list[str]:
    names = names or [f"img{k:03d}.png" for k in range(len(images))]
    for name, image in zip(names, images, strict=True):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(path)
    return names


def test_shards_hold_the_images_in_sorted_order_and_read_back_exactly(tmp_path):
    images = numbered_images(7)
    write_pngs(tmp_path / "src", images)
    manifest = prepare.prepare(
        str(tmp_path / "src"), str(tmp_path / "out"), 8, shard_size=3, resize_filter="nearest"
    )
    assert [s["count"] for s in manifest["shards"]] == [3, 3, 1]
    assert manifest["count"] == 7 and manifest["num_classes"] == 0
    dataset = datasets.load(
        tiny(dataset=f"prepared:{tmp_path / 'out'}", image_size=8, num_channels=3)
    )
    shards = dataset.images
    assert isinstance(shards, prepared.ImageShards) and shards.shape == (7, 8, 8, 3)
    assert len(dataset) == 7 and dataset.labels is None
    np.testing.assert_array_equal(shards[:], images)
    rows = np.array([6, 0, 3, 3, 2, 5])  # across shards, unsorted, repeated
    np.testing.assert_array_equal(shards[rows], images[rows])
    np.testing.assert_array_equal(shards[4], images[4])
    np.testing.assert_array_equal(shards[2:6:2], images[2:6:2])
    view = shards.take(np.array([5, 1, 2]), axis=0)
    assert isinstance(view, prepared.ImageShards) and len(view) == 3
    np.testing.assert_array_equal(view[1:], images[[1, 2]])
    sources = (tmp_path / "out" / "sources.txt").read_text().split()
    assert sources == [f"img{k:03d}.png" for k in range(7)]


def test_transforms_and_channels_by_hand(tmp_path):
    # A 4-wide, 2-high image, columns 10, 20, 30, 40: nearest resizing keeps values exact.
    wide = np.repeat(np.array([[10, 20, 30, 40]], np.uint8), 2, axis=0)
    (tmp_path / "src").mkdir()
    Image.fromarray(wide).save(tmp_path / "src" / "wide.png")
    outputs = {}
    for transform in prepare.TRANSFORMS:
        out = tmp_path / transform
        prepare.prepare(
            str(tmp_path / "src"),
            str(out),
            4,
            channels=1,
            transform=transform,
            resize_filter="nearest",
        )
        outputs[transform] = prepared.load(str(out), tiny(image_size=4)).images[0][..., 0]
    # center-crop: the middle 2x2 square (columns 20, 30), enlarged to 4x4.
    np.testing.assert_array_equal(outputs["center-crop"], np.repeat([[20, 20, 30, 30]], 4, 0))
    # pad: the image centred on a black 4x4 square, rows 1 and 2.
    padded = np.zeros((4, 4), np.uint8)
    padded[1:3] = wide
    np.testing.assert_array_equal(outputs["pad"], padded)
    # squash: rows doubled.
    np.testing.assert_array_equal(outputs["squash"], np.repeat(wide, 2, axis=0))
    # Grey sources asked for in colour are repeated to 3 equal channels.
    prepare.prepare(
        str(tmp_path / "src"),
        str(tmp_path / "rgb"),
        2,
        transform="center-crop",
        resize_filter="nearest",
    )
    rgb = np.load(tmp_path / "rgb" / prepared.shard_name(0))
    assert rgb.shape == (1, 2, 2, 3) and (rgb == rgb[..., :1]).all()


def test_the_default_filter_is_lanczos_on_the_largest_centred_square(tmp_path):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    (tmp_path / "src").mkdir()
    Image.fromarray(image).save(tmp_path / "src" / "a.png")
    prepare.prepare(str(tmp_path / "src"), str(tmp_path / "out"), 16)
    got = np.load(tmp_path / "out" / prepared.shard_name(0))[0]
    # The centred 30x30 square, then Pillow's Lanczos (dataset_tool's filter).
    square = Image.fromarray(image[:, 5:35])
    expected = np.asarray(square.resize((16, 16), Image.Resampling.LANCZOS))
    np.testing.assert_array_equal(got, expected)


def test_labels_from_subfolders_from_dataset_json_and_from_a_zip(tmp_path):
    images = numbered_images(4)
    write_pngs(tmp_path / "tree", images, ["cat/a.png", "dog/b.png", "cat/c.png", "dog/d.png"])
    manifest = prepare.prepare(
        str(tmp_path / "tree"), str(tmp_path / "sub"), 8, labels="subfolders"
    )
    assert manifest["class_names"] == ["cat", "dog"]
    dataset = datasets.load(
        tiny(dataset=f"prepared:{tmp_path / 'sub'}", image_size=8, num_channels=3)
    )
    # Sorted names: cat/a, cat/c, dog/b, dog/d.
    np.testing.assert_array_equal(dataset.labels, [0, 0, 1, 1])
    np.testing.assert_array_equal(dataset.images[:], images[[0, 2, 1, 3]])
    assert dataset.num_classes == 2

    # StyleGAN's dataset.json, inside a zip, picked up by --labels=auto.
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("cat/a.png", "dog/b.png", "cat/c.png", "dog/d.png"):
            zf.write(tmp_path / "tree" / name, name)
        table = [["cat/a.png", 3], ["cat/c.png", 0], ["dog/b.png", 2], ["dog/d.png", 1]]
        zf.writestr("dataset.json", json.dumps({"labels": table}))
        zf.writestr(".hidden.png", b"not an image")
    manifest = prepare.prepare(str(archive), str(tmp_path / "zipped"), 8)
    assert manifest["labels"] == "dataset.json" and manifest["count"] == 4
    labels = np.load(tmp_path / "zipped" / prepared.LABELS)
    np.testing.assert_array_equal(labels, [3, 0, 2, 1])
    assert manifest["num_classes"] == 4


def test_prepared_batches_equal_the_in_memory_datasets(tmp_path):
    """The pipeline gives the same batches from disk as from an in-memory array of the
    same images (an npz dataset), labels included, for every process's rows."""
    images = numbered_images(20, size=8, channels=1)
    labels = np.arange(20) % 3
    names = write_pngs(tmp_path / "src", images, [f"{k % 3}/{k:02d}.png" for k in range(20)])
    prepare.prepare(
        str(tmp_path / "src"),
        str(tmp_path / "out"),
        8,
        channels=1,
        shard_size=6,
        labels="subfolders",
    )
    order = np.argsort(names)
    np.savez(tmp_path / "same.npz", images=images[order], labels=labels[order])
    for x_flip in (False, True):
        common = dict(image_size=8, num_channels=1, batch_size=4, d_steps=2, x_flip=x_flip)
        from_disk = tiny(dataset=f"prepared:{tmp_path / 'out'}", **common)
        in_memory = tiny(dataset=f"npz:{tmp_path / 'same.npz'}", **common)
        for process in (0, 1):
            streams = [
                input_pipeline.real_batches(datasets.load(c), c, 3, process, 2)
                for c in (from_disk, in_memory)
            ]
            for _ in range(7):
                disk, memory = (next(s) for s in streams)
                assert disk.keys() == memory.keys() == {"image", "label"}
                for key in disk:
                    np.testing.assert_array_equal(disk[key], memory[key])


def test_x_flip_shows_each_image_once_plain_and_once_mirrored_per_epoch(tmp_path):
    images = numbered_images(6, size=4, channels=1)
    np.savez(tmp_path / "six.npz", images=images)
    config = tiny(
        dataset=f"npz:{tmp_path / 'six.npz'}",
        image_size=4,
        num_channels=1,
        batch_size=4,
        x_flip=True,
    )
    dataset = datasets.load(config)
    batches = input_pipeline.real_batches(dataset, config, 0)
    # 12 entries per epoch = 3 batches of 4.
    shown = np.concatenate([next(batches)["image"][0] for _ in range(3)])
    scaled = input_pipeline.scaled(images, 1)
    expected = np.concatenate([scaled, scaled[:, :, ::-1]])
    as_rows = lambda a: sorted(map(bytes, a.reshape(len(a), -1).view(np.uint8)))  # noqa: E731
    assert as_rows(shown) == as_rows(expected)
    # Resuming at batch 2 gives the third batch of the uninterrupted stream.
    resumed = next(input_pipeline.real_batches(dataset, config, 2))["image"]
    np.testing.assert_array_equal(resumed[0], shown[8:])


def test_the_fid_reference_of_a_prepared_set_stays_a_lazy_view(tmp_path):
    images = numbered_images(5)
    write_pngs(tmp_path / "src", images)
    prepare.prepare(str(tmp_path / "src"), str(tmp_path / "out"), 8)
    config = tiny(dataset=f"prepared:{tmp_path / 'out'}", image_size=8, num_channels=3)
    dataset = datasets.load(config)
    ref = reference.describe(config, 3, len(dataset))
    chosen = reference.images_of(ref, dataset)
    assert isinstance(chosen, prepared.ImageShards)
    np.testing.assert_array_equal(chosen[:], images[reference.select(3, 5)])


# --- Bad input ------------------------------------------------------------------------


@pytest.fixture
def prepared_dir(tmp_path):
    write_pngs(tmp_path / "src", numbered_images(5))
    prepare.prepare(str(tmp_path / "src"), str(tmp_path / "out"), 8, shard_size=2)
    return tmp_path / "out"


def load_prepared(path, **overrides):
    config = tiny(dataset=f"prepared:{path}", image_size=8, num_channels=3)
    for name, value in overrides.items():
        config[name] = value
    return datasets.load(config)


def test_another_resolution_or_colour_than_the_configs_is_refused(prepared_dir):
    with pytest.raises(
        UserError,
        match=r"prepared at 8x8 and config.image_size is 16: set "
        r"--config.image_size=8",
    ):
        load_prepared(prepared_dir, image_size=16)
    with pytest.raises(UserError, match="prepared in colour and config.num_channels is 1"):
        load_prepared(prepared_dir, num_channels=1)
    with pytest.raises(UserError, match="is not a prepared dataset .no manifest.json."):
        load_prepared(prepared_dir.parent / "src")


def test_a_damaged_or_truncated_shard_is_refused_naming_it(prepared_dir, tmp_path):
    shard = prepared_dir / prepared.shard_name(1)
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(UserError, match=f"{shard} is damaged .its SHA-256 differs"):
        load_prepared(prepared_dir)
    shard.write_bytes(bytes(data[:-50]))
    with pytest.raises(UserError, match=f"the shard {shard} is damaged or truncated"):
        load_prepared(prepared_dir)
    shard.unlink()
    with pytest.raises(UserError, match=f"the shard {shard} is missing"):
        load_prepared(prepared_dir)


def test_a_verified_shard_is_not_hashed_again(prepared_dir, monkeypatch):
    load_prepared(prepared_dir)
    hashed = []
    monkeypatch.setattr(prepared, "file_sha256", lambda path, progress=None: hashed.append(path))
    load_prepared(prepared_dir)
    assert hashed == []


def test_dataset_json_with_the_wrong_count_is_refused_and_nothing_is_written(tmp_path):
    write_pngs(tmp_path / "src", numbered_images(3))
    (tmp_path / "src" / "dataset.json").write_text(
        json.dumps({"labels": [["img000.png", 0], ["img001.png", 1]]})
    )
    with pytest.raises(
        UserError,
        match=r"labels 2 files and --source has 3 images \(e.g. "
        r"img002.png has none\)",
    ):
        prepare.prepare(str(tmp_path / "src"), str(tmp_path / "out"), 8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_bad_files_and_existing_outputs(tmp_path):
    write_pngs(tmp_path / "src", numbered_images(2))
    (tmp_path / "src" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(
        UserError,
        match=r"broken.png is not an image Pillow can read: remove "
        "it, or give --skip_bad_files",
    ):
        prepare.prepare(str(tmp_path / "src"), str(tmp_path / "out"), 8)
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    manifest = prepare.prepare(str(tmp_path / "src"), str(tmp_path / "out"), 8, skip_bad_files=True)
    assert manifest["count"] == 2 and manifest["skipped"][0].startswith("broken.png: ")
    before = sorted(p.name for p in (tmp_path / "out").iterdir())
    with pytest.raises(UserError, match="exists: choose a new folder"):
        prepare.prepare(str(tmp_path / "src"), str(tmp_path / "out"), 8)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == before
    with pytest.raises(UserError, match="is inside --source"):
        prepare.prepare(str(tmp_path / "src"), str(tmp_path / "src" / "new"), 8)


def test_x_flip_is_refused_where_it_cannot_apply():
    with pytest.raises(UserError, match="config.x_flip mirrors images; vector data"):
        config_validation.validate(
            tiny(dataset="ring8", data_dim=2, model="mlp", x_flip=True, family="gan")
        )


def test_command_line(tmp_path):
    write_pngs(tmp_path / "src", numbered_images(3))
    command = [
        sys.executable,
        "-m",
        "jaxgan.prepare_dataset",
        f"--source={tmp_path / 'src'}",
        f"--out={tmp_path / 'out'}",
        "--resolution=8",
    ]
    env = {"JAXGAN_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "wrote 3 images at 8x8x3 in 1 shards" in done.stdout
    assert f"--config.dataset=prepared:{tmp_path / 'out'} --config.image_size=8" in done.stdout
    again = subprocess.run(command, capture_output=True, text=True, env=env)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines()[-1].startswith("jaxgan: error: --out ")
