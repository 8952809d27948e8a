"""Writing a prepared dataset (the logic of `python -m jaxgan.prepare_dataset`; the format
is described in jaxgan/data/datasets/prepared.py).

Like StyleGAN's dataset_tool.py: the source is a folder or a .zip of images; each image is
made square (`center-crop`: the largest centred square; `pad`: the whole image centred on
a black square; `squash`: resized, aspect ignored) and resized to the resolution with a
named filter (Lanczos by default, as dataset_tool); labels come from the source's
`dataset.json` (dataset_tool's `{"labels": [[name, class], ...]}`) or from its first-level
sub-folders. Images are decoded on a thread per core, one shard at a time, so memory
holds one shard, not the set.

Nothing of the user's is replaced: an existing --out is refused, the shards are written
into a hidden folder beside it that becomes --out by a rename only once complete, and a
failure removes that folder (which only this run wrote).
"""

import concurrent.futures
import json
import os
import pathlib
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from io import BytesIO

import numpy as np
import tqdm
from PIL import Image

from jaxgan.data.datasets import folder, prepared
from jaxgan.runtime.errors import UserError

TRANSFORMS = ("center-crop", "pad", "squash")
FILTERS = {
    "lanczos": Image.Resampling.LANCZOS,
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    "box": Image.Resampling.BOX,
    "nearest": Image.Resampling.NEAREST,
}
LABEL_SOURCES = ("auto", "dataset.json", "subfolders", "none")
LABELS_FILE = "dataset.json"


class Source:
    """The image files of a folder or a .zip: sorted names, and a reader of their bytes."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        if path.is_dir():
            self._zip = None
            names = folder.list_files(path)
        elif path.is_file() and zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
            names = sorted(
                info.filename
                for info in self._zip.infolist()
                if not info.is_dir()
                and not any(part.startswith(".") for part in info.filename.split("/"))
                and not info.filename.startswith("__MACOSX/")
            )
        elif path.exists():
            raise UserError(f"--source {path} is neither a folder nor a .zip file")
        else:
            raise UserError(f"--source {path} does not exist")
        self.has_labels_file = LABELS_FILE in names
        self.names = [name for name in names if name != LABELS_FILE]
        if not self.names:
            raise UserError(
                f"--source {path} holds no image files (names starting with . are left out)"
            )

    def read(self, name: str) -> bytes:
        if self._zip is None:
            return (self.path / name).read_bytes()
        return self._zip.read(name)


def made_square(image: Image.Image, resolution: int, transform: str, resample) -> Image.Image:
    size = (resolution, resolution)
    if transform == "center-crop":
        # Cropped, then resized, as dataset_tool does (ImageOps.fit would resample from
        # pixels outside the square too).
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        return image.crop((left, top, left + side, top + side)).resize(size, resample)
    if transform == "squash":
        return image.resize(size, resample)
    side = max(image.size)
    canvas = Image.new(image.mode, (side, side), 0)
    canvas.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return canvas.resize(size, resample)


def decode(data: bytes, resolution: int, channels: int, transform: str, resample) -> np.ndarray:
    """uint8 (resolution, resolution, channels); raises folder.BadImage saying why not."""
    pixels = folder.decoded_pixels(
        BytesIO(data), channels, lambda image: made_square(image, resolution, transform, resample)
    )
    return pixels.reshape(resolution, resolution, channels)


def resolved_labels(source: Source, how: str) -> str:
    if how == "auto":
        return "dataset.json" if source.has_labels_file else "none"
    return how


def labels_of(source: Source, names: Sequence[str], how: str) -> tuple[np.ndarray | None, list]:
    """(int32 labels of `names`, some of the source's images, or None; the class names)
    as `how` says. dataset.json must label every image of the source."""
    how = resolved_labels(source, how)
    if how == "none":
        return None, []
    if how == "subfolders":
        return folder.class_labels(source.path, names, "--labels=subfolders", source.names)
    where = f"{source.path}/{LABELS_FILE}"
    if not source.has_labels_file:
        raise UserError(f"--labels=dataset.json: {where} does not exist")
    try:
        listed = json.loads(source.read(LABELS_FILE))["labels"]
        table = {str(name): int(label) for name, label in listed} if listed else {}
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(
            f'{where} is not {{"labels": [["name", class], ...]}} ({error}): fix it, or '
            "give --labels=none"
        ) from error
    if not table:
        return None, []
    if len(table) != len(source.names) or set(table) != set(source.names):
        missing = sorted(set(source.names) - set(table))
        example = f" (e.g. {missing[0]} has none)" if missing else ""
        raise UserError(
            f"{where} labels {len(table)} files and --source has {len(source.names)} images"
            f"{example}: "
            "it needs one label per image, or give --labels=none"
        )
    labels = np.array([table[name] for name in names], np.int64)
    if labels.min() < 0:
        raise UserError(f"{where} has a negative label: classes are 0..K-1")
    count = int(labels.max()) + 1
    return labels.astype(np.int32), [str(k) for k in range(count)]


def shard_ranges(count: int, shard_size: int) -> list[range]:
    return [range(start, min(start + shard_size, count)) for start in range(0, count, shard_size)]


def write_shards(
    source: Source,
    target: pathlib.Path,
    decode_one: Callable[[bytes], np.ndarray],
    shard_size: int,
    skip_bad: bool,
) -> tuple[list[dict], list[str], list[str]]:
    """Decodes and writes every shard; returns the manifest's shard entries, the names
    kept (in order) and the skipped files with the reason."""
    entries, kept, skipped = [], [], []
    pending: list[np.ndarray] = []
    threads = os.cpu_count() or 1

    def flush():
        index = len(entries)
        path = target / prepared.shard_name(index)
        np.save(path, np.stack(pending))
        entries.append(
            {"file": path.name, "count": len(pending), "sha256": prepared.file_sha256(path)}
        )
        pending.clear()

    def one(name: str):
        try:
            return decode_one(source.read(name)), None
        except folder.BadImage as error:
            return None, str(error)

    with (
        concurrent.futures.ThreadPoolExecutor(threads) as pool,
        tqdm.tqdm(total=len(source.names), desc=f"preparing {source.path}", unit="image") as bar,
    ):
        # One shard's worth of files in flight at a time: memory holds a shard, not the set.
        for chunk in shard_ranges(len(source.names), shard_size):
            names = [source.names[i] for i in chunk]
            for name, (pixels, problem) in zip(names, pool.map(one, names), strict=True):
                bar.update()
                if problem is not None:
                    if not skip_bad:
                        raise UserError(
                            f"{source.path / name} {problem}: remove it, or give "
                            "--skip_bad_files to leave such files out"
                        )
                    skipped.append(f"{name}: {problem}")
                    continue
                pending.append(pixels)
                kept.append(name)
                if len(pending) == shard_size:
                    flush()
        if pending:
            flush()
    return entries, kept, skipped


def prepare(
    source_path: str,
    out: str,
    resolution: int,
    channels: int = 3,
    transform: str = "center-crop",
    resize_filter: str = "lanczos",
    labels: str = "auto",
    shard_size: int = 4096,
    skip_bad_files: bool = False,
) -> dict:
    """Writes the prepared dataset to `out`; returns its manifest."""
    if resolution < 1:
        raise UserError(f"--resolution must be a positive number of pixels, got {resolution}")
    if channels not in (1, 3):
        raise UserError(f"--channels must be 1 or 3, got {channels}")
    if shard_size < 1:
        raise UserError(f"--shard_size must be >= 1, got {shard_size}")
    if transform not in TRANSFORMS:
        raise UserError(f"--transform must be one of {TRANSFORMS}, got {transform!r}")
    if resize_filter not in FILTERS:
        raise UserError(f"--filter must be one of {sorted(FILTERS)}, got {resize_filter!r}")
    if labels not in LABEL_SOURCES:
        raise UserError(f"--labels must be one of {LABEL_SOURCES}, got {labels!r}")
    target = pathlib.Path(out).expanduser().resolve()
    if target.exists():
        raise UserError(f"--out {target} exists: choose a new folder (nothing was written)")
    if not target.parent.is_dir():
        raise UserError(f"--out {target}: its parent folder {target.parent} does not exist")
    source = Source(pathlib.Path(source_path).expanduser().resolve())
    if target == source.path or source.path in target.parents:
        raise UserError(f"--out {target} is inside --source: choose a folder outside it")
    # Checked before hours of decoding: labels are known from the file names alone.
    labels_of(source, source.names, labels)

    partial = pathlib.Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        resample = FILTERS[resize_filter]
        entries, kept, skipped = write_shards(
            source,
            partial,
            lambda data: decode(data, resolution, channels, transform, resample),
            shard_size,
            skip_bad_files,
        )
        if not kept:
            raise UserError(f"--source {source.path} holds no readable PNG, JPEG or WebP image")
        label_array, class_names = labels_of(source, kept, labels)
        if label_array is not None:
            np.save(partial / prepared.LABELS, label_array)
        (partial / prepared.SOURCES).write_text("".join(f"{name}\n" for name in kept))
        manifest = {
            "format": prepared.FORMAT,
            "version": prepared.VERSION,
            "resolution": resolution,
            "channels": channels,
            "count": len(kept),
            "transform": transform,
            "filter": resize_filter,
            "source": str(source.path),
            "labels": "none" if label_array is None else resolved_labels(source, labels),
            "num_classes": len(class_names),
            "class_names": class_names,
            "skipped": skipped,
            "shards": entries,
        }
        (partial / prepared.MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest
