"""A prepared dataset: `prepared:DIR` is a folder written by `python -m jaxgan.prepare_dataset`,
read memory-mapped, so a set larger than the machine's memory trains (FFHQ at 256 px is
13.8 GB as uint8).

DIR holds `manifest.json` (resolution, channels, count, how the images were made square
and resized, the shards with their image counts and SHA-256), the uint8 shards
`images-NNNNN.npy` (n, R, R, C) in the source's sorted order, `labels.npy` (int32, one per
image) when the set has labels, and `sources.txt` (the source name of every image).

Only the rows a batch needs are read from disk, and each process reads only its own rows
of every global batch (the input pipeline indexes the dataset with them). A shard's
checksum is verified the first time it is read on a machine (a marker in the dataset
cache, keyed by the shard's path, size and modification time, records it): a damaged or
truncated shard is refused naming the file.
"""

import dataclasses
import hashlib
import json
import pathlib

import ml_collections
import numpy as np
import tqdm

from jaxgan.data.datasets import Dataset, _cache, folder
from jaxgan.runtime.errors import UserError

FORMAT = "jaxgan-prepared-dataset"
VERSION = 1
MANIFEST = "manifest.json"
LABELS = "labels.npy"
SOURCES = "sources.txt"
HASH_CHUNK = 1 << 24


def shard_name(index: int) -> str:
    return f"images-{index:05d}.npy"


def file_sha256(path: pathlib.Path, progress: tqdm.tqdm | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
            if progress is not None:
                progress.update(len(chunk))
    return digest.hexdigest()


class ImageShards:
    """The images of several uint8 (n, R, R, C) shards as one read-only (N, R, R, C) array
    for what the pipeline and the metrics do with a dataset's images: len, shape, slices,
    integer-array indexing (each returns an in-memory array of just those rows) and
    `take(indices, axis=0)`, which, unlike NumPy's, returns a lazy view (the FID reference
    of a 70k-image set is then read batch by batch, not all at once)."""

    dtype = np.dtype(np.uint8)
    ndim = 4

    def __init__(self, shards: list[np.ndarray], rows: np.ndarray | None = None):
        self._shards = shards
        self._starts = np.cumsum([0] + [len(shard) for shard in shards])
        self._rows = np.arange(self._starts[-1]) if rows is None else rows

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self._rows),) + self._shards[0].shape[1:]

    def __len__(self) -> int:
        return len(self._rows)

    def __array__(self, dtype=None, copy=None):
        del copy  # a copy is always made
        return self[:].astype(dtype) if dtype is not None else self[:]

    def take(self, indices, axis: int = 0) -> "ImageShards":
        if axis != 0:
            raise ValueError("ImageShards.take works along the image axis only")
        return ImageShards(self._shards, self._rows[np.asarray(indices)])

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            return self[np.array([key])][0]
        if isinstance(key, tuple):
            return self[key[0]][(slice(None),) + key[1:]]
        rows = self._rows[key]
        if rows.ndim != 1:
            raise IndexError("ImageShards takes an integer, a slice or a 1-D integer array")
        out = np.empty((len(rows),) + self._shards[0].shape[1:], np.uint8)
        owner = np.searchsorted(self._starts, rows, side="right") - 1
        for shard in np.unique(owner):
            chosen = owner == shard
            local = rows[chosen] - self._starts[shard]
            # Read in file order (fewer seeks), then put back in the asked-for order.
            order = np.argsort(local, kind="stable")
            block = np.empty((len(local),) + out.shape[1:], np.uint8)
            block[order] = self._shards[shard][local[order]]
            out[chosen] = block
        return out


@dataclasses.dataclass(frozen=True)
class Manifest:
    resolution: int
    channels: int
    count: int
    shards: list[dict]
    num_classes: int
    record: dict


def read_manifest(root: pathlib.Path) -> Manifest:
    path = root / MANIFEST
    redo = f"prepare it again with python -m jaxgan.prepare_dataset --out={root}"
    if not path.is_file():
        raise UserError(
            f"{root} is not a prepared dataset (no {MANIFEST}): make one with "
            f"python -m jaxgan.prepare_dataset --source=YOUR_IMAGES --out={root}"
        )
    try:
        record = json.loads(path.read_text())
        if record.get("format") != FORMAT:
            raise ValueError(f"its format is {record.get('format')!r}, not {FORMAT!r}")
        if record.get("version") != VERSION:
            raise ValueError(f"it is version {record.get('version')}; this jaxgan reads {VERSION}")
        manifest = Manifest(
            resolution=int(record["resolution"]),
            channels=int(record["channels"]),
            count=int(record["count"]),
            shards=list(record["shards"]),
            num_classes=int(record["num_classes"]),
            record=record,
        )
        if sum(int(shard["count"]) for shard in manifest.shards) != manifest.count:
            raise ValueError("its shards' counts do not add up to its count")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UserError(f"{path} is not a readable manifest ({error}): {redo}") from error
    return manifest


def verified_marker(path: pathlib.Path, sha256: str) -> pathlib.Path:
    stat = path.stat()
    identity = json.dumps([str(path.absolute()), stat.st_size, stat.st_mtime_ns, sha256])
    name = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return _cache.writable_dir() / "prepared-verified" / name


def verify_shards(root: pathlib.Path, manifest: Manifest) -> None:
    """Checks every shard's SHA-256 against the manifest, once per shard file and machine."""
    pending = []
    for entry in manifest.shards:
        path = root / entry["file"]
        marker = verified_marker(path, entry["sha256"])
        if not marker.exists():
            pending.append((path, entry["sha256"], marker))
    if not pending:
        return
    total = sum(path.stat().st_size for path, _, _ in pending)
    with tqdm.tqdm(
        total=total, desc=f"verifying {root}", unit="B", unit_scale=True, disable=total < 1 << 28
    ) as progress:
        for path, expected, marker in pending:
            if file_sha256(path, progress) != expected:
                raise UserError(
                    f"{path} is damaged (its SHA-256 differs from the manifest's): prepare "
                    f"the dataset again with python -m jaxgan.prepare_dataset --out=NEW_FOLDER"
                )
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()


def open_shard(root: pathlib.Path, entry: dict, manifest: Manifest) -> np.ndarray:
    path = root / entry["file"]
    expected = (int(entry["count"]), manifest.resolution, manifest.resolution, manifest.channels)
    problem = None
    if not path.is_file():
        problem = "is missing"
    else:
        try:
            shard = np.load(path, mmap_mode="r", allow_pickle=False)
            if shard.dtype != np.uint8 or shard.shape != expected:
                problem = f"holds {shard.dtype} {shard.shape}, the manifest says uint8 {expected}"
        except (ValueError, OSError, EOFError) as error:
            problem = f"is damaged or truncated ({error})"
    if problem:
        raise UserError(
            f"the shard {path} {problem}: prepare the dataset again with "
            "python -m jaxgan.prepare_dataset --out=NEW_FOLDER"
        )
    return shard


def read_labels(root: pathlib.Path, manifest: Manifest) -> np.ndarray | None:
    if not manifest.num_classes:
        return None
    path = root / LABELS
    try:
        labels = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise UserError(f"{path} cannot be read ({error}): prepare the dataset again") from error
    if labels.shape != (manifest.count,) or labels.dtype != np.int32:
        raise UserError(
            f"{path} holds {labels.dtype} {labels.shape}, not int32 ({manifest.count},): "
            "prepare the dataset again"
        )
    return labels


def check_fits(root: pathlib.Path, manifest: Manifest, config: ml_collections.ConfigDict):
    size, channels = config.image_size, config.num_channels
    if manifest.resolution != size:
        raise UserError(
            f"{root} was prepared at {manifest.resolution}x{manifest.resolution} and "
            f"config.image_size is {size}: set --config.image_size={manifest.resolution}, or "
            f"prepare the images again with --resolution={size}"
        )
    if manifest.channels == 3 and channels == 1:
        raise UserError(
            f"{root} was prepared in colour and config.num_channels is 1: set "
            "--config.num_channels=3, or prepare the images again with --channels=1"
        )


def load(argument: str | None, config: ml_collections.ConfigDict) -> Dataset:
    if not argument:
        raise UserError("config.dataset=prepared:DIR needs the prepared folder after 'prepared:'")
    root = folder.existing_folder(argument, "the prepared dataset")
    manifest = read_manifest(root)
    check_fits(root, manifest, config)
    shards = [open_shard(root, entry, manifest) for entry in manifest.shards]
    verify_shards(root, manifest)
    labels = read_labels(root, manifest)
    return Dataset(images=ImageShards(shards), labels=labels, num_classes=manifest.num_classes)
