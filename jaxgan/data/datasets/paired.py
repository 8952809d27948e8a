"""Paired images for pix2pix: `paired:PATH` reads either layout of
junyanz/pytorch-CycleGAN-and-pix2pix's paired data:

- aligned, as its `aligned` dataset and download scripts (facades, maps, edges2shoes):
  PATH/train/ holds images each made of the input A (left half) and the target B (right
  half) side by side; PATH/test/ (or PATH/val/) the held-out pairs;
- two folders, as its `combine_A_and_B.py` takes them: PATH/trainA/ and PATH/trainB/
  holding files of the same relative names (and testA/, testB/ likewise).

Each half or image is resized whole to the load size for training (the test pairs to
config.image_size), as unpaired:PATH is (unpaired.py); the input pipeline crops and
flips each pair at the same place. Decoding happens once, cached beside folder:PATH's.
"""

import pathlib

import ml_collections
import numpy as np
import tqdm
from PIL import Image, ImageOps

from jaxgan.data import pipeline
from jaxgan.data.datasets import TwoDomains, _cache, _fit, folder
from jaxgan.runtime.errors import UserError
from jaxgan.runtime.files import save_npz


def decode_halves(path: pathlib.Path, size: int, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """The left and right halves of an A|B image, each resized to size x size."""
    try:
        with Image.open(path) as image:
            image = _fit.flatten_alpha(ImageOps.exif_transpose(image))
            image = image.convert("L" if channels == 1 else "RGB")
            width, height = image.size
            half = width // 2
            parts = [image.crop((0, 0, half, height)), image.crop((half, 0, width, height))]
            pixels = [np.asarray(_fit.squash(part, size)) for part in parts]
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UserError(
            f"{path} is not an image Pillow can read ({type(error).__name__}): remove it"
        ) from error
    a, b = (p.reshape(size, size, channels) for p in pixels)
    return a, b


def aligned(root: pathlib.Path, size: int, config: ml_collections.ConfigDict):
    """(A, B) of every A|B image under root, from the cache when it has them."""
    files = folder.list_files(root)
    if not files:
        raise UserError(f"{root} holds no files: put A|B images (side by side) in it")
    key = folder.cache_key(root, files, size, config.num_channels) + "-halves"
    path = _cache.writable_dir() / f"paired-{root.name}-{key}.npz"
    arrays = _cache.read(path)
    if arrays is None:
        halves = [
            decode_halves(root / name, size, config.num_channels)
            for name in tqdm.tqdm(files, desc=f"decoding {root}", unit="image")
        ]
        arrays = {"a": np.stack([h[0] for h in halves]), "b": np.stack([h[1] for h in halves])}
        save_npz(path, **arrays)
    return arrays["a"], arrays["b"]


def matched(root: pathlib.Path, split: str, size: int, config: ml_collections.ConfigDict):
    """(A, B) of root/<split>A and root/<split>B, paired by relative file name."""
    sides = {side: root / f"{split}{side}" for side in "AB"}
    names = {side: folder.list_files(path) for side, path in sides.items()}
    if names["A"] != names["B"]:
        only = sorted(set(names["A"]) ^ set(names["B"]))
        where = "A" if only[0] in names["A"] else "B"
        raise UserError(
            f"{sides[where] / only[0]} has no counterpart of the same name in "
            f"{sides['B' if where == 'A' else 'A']} ({len(only)} unmatched files): paired "
            "folders need the same file names"
        )
    return tuple(
        folder.readable_images(sides[side], config, size, squash=True)["images"] for side in "AB"
    )


def load(argument: str | None, config: ml_collections.ConfigDict) -> TwoDomains:
    if not argument:
        raise UserError("config.dataset=paired:PATH needs the folder after 'paired:'")
    root = folder.existing_folder(
        argument,
        "the paired dataset folder",
        "give --config.dataset=paired:DIR, a folder in pix2pix's layout (DIR/train of "
        "side-by-side A|B images, as its datasets/download_pix2pix_dataset.sh makes them, "
        "or DIR/trainA and DIR/trainB of images with the same names)",
    )
    load_size = pipeline.translation_load_size(config)
    empty = np.zeros((0, config.image_size, config.image_size, config.num_channels), np.uint8)
    if (root / "train").is_dir():
        a, b = aligned(root / "train", load_size, config)
        held_out = next((root / s for s in ("test", "val") if (root / s).is_dir()), None)
        test = aligned(held_out, config.image_size, config) if held_out else (empty, empty)
    elif (root / "trainA").is_dir() and (root / "trainB").is_dir():
        a, b = matched(root, "train", load_size, config)
        has_test = (root / "testA").is_dir() and (root / "testB").is_dir()
        test = matched(root, "test", config.image_size, config) if has_test else (empty, empty)
    else:
        raise UserError(
            f"{root} has neither train/ (A|B images side by side) nor trainA/ and trainB/ "
            "(images of the same names): paired:PATH reads pix2pix's layouts"
        )
    if config.pix2pix_direction == "BtoA":  # the reference's --direction BtoA: swapped
        a, b, test = b, a, (test[1], test[0])
    return TwoDomains(a=a, b=b, test_a=test[0], test_b=test[1], test_counterparts=True, paired=True)
