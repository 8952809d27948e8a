"""Applying a fully convolutional image-to-image net to an image of any size.

Small images run whole, reflection-padded up to a multiple of the net's downsampling.
Large ones run in overlapping square tiles (one shape, so one compilation), blended with
weights that fall off linearly towards each tile's edges: the tiles' outputs differ a
little (instance normalisation sees each tile's own statistics), and the ramps hide
where one hands over to the next, so no seam shows.
"""

from collections.abc import Callable

import numpy as np


def starts(length: int, tile: int, overlap: int) -> list[int]:
    """Offsets of tiles of `tile` pixels covering [0, length), each overlapping the
    next by at least `overlap`; the last ends at `length`."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    offsets = list(range(0, length - tile, stride))
    return offsets + [length - tile]


def ramp(tile: int, overlap: int) -> np.ndarray:
    """Blending weights along one side of a tile: 1 in the middle, falling linearly
    over the `overlap` pixels nearest each edge (never 0)."""
    position = np.arange(tile)
    distance = np.minimum(position + 1, tile - position)
    return np.minimum(distance / (overlap + 1), 1.0).astype(np.float32)


def pad_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """(H, W, C) reflection-padded at the bottom and right to multiples of `multiple`."""
    height, width = image.shape[:2]
    pads = ((0, -height % multiple), (0, -width % multiple), (0, 0))
    # numpy reflects again and again where the pad is longer than the image; a side of
    # one pixel has nothing to reflect and is repeated.
    return np.pad(image, pads, mode="reflect" if min(height, width) > 1 else "edge")


def apply(
    net: Callable[[np.ndarray], np.ndarray],
    image: np.ndarray,
    tile: int,
    overlap: int,
    multiple: int = 4,
    scale: int = 1,
) -> np.ndarray:
    """net over an (H, W, C) float image, whole or in tiles; `net` maps a (1, h, w, C)
    batch to (1, h scale, w scale, C') for h, w multiples of `multiple` (and tile is
    one): an upscaling net's output is `scale` times its input's size."""
    height, width = image.shape[:2]
    if max(height, width) <= tile:
        padded = pad_to_multiple(image, multiple)
        return np.asarray(net(padded[None]))[0, : height * scale, : width * scale]
    # Every tile is tile x tile: pad a side shorter than a tile up to one.
    padded = np.pad(
        image,
        ((0, max(tile - height, 0)), (0, max(tile - width, 0)), (0, 0)),
        mode="reflect",
    )
    full_height, full_width = padded.shape[:2]
    out_tile = tile * scale
    weights = np.outer(ramp(out_tile, overlap * scale), ramp(out_tile, overlap * scale))[..., None]
    total = None
    weight_sum = np.zeros((full_height * scale, full_width * scale, 1), np.float32)
    for top in starts(full_height, tile, overlap):
        for left in starts(full_width, tile, overlap):
            window = padded[top : top + tile, left : left + tile]
            output = np.asarray(net(window[None]))[0]
            if total is None:
                shape = (full_height * scale, full_width * scale, output.shape[-1])
                total = np.zeros(shape, np.float32)
            rows = slice(top * scale, top * scale + out_tile)
            columns = slice(left * scale, left * scale + out_tile)
            total[rows, columns] += output * weights
            weight_sum[rows, columns] += weights
    return (total / weight_sum)[: height * scale, : width * scale]
