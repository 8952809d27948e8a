"""Image grids and PNG files."""

import math
import pathlib

import numpy as np
from PIL import Image

from jaxgan.runtime import files


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Generator output in [-1, 1] to uint8, the inverse of the input pipeline's scaling."""
    return np.clip(np.rint((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def grid(images: np.ndarray, columns: int | None = None, padding: int = 2) -> np.ndarray:
    """uint8 (N, H, W, C) tiled into one (rows*H', columns*W', C) image, 2 px gaps."""
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    canvas = np.zeros(
        (rows * (h + padding) + padding, columns * (w + padding) + padding, c), np.uint8
    )
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = padding + row * (h + padding), padding + column * (w + padding)
        canvas[top : top + h, left : left + w] = image
    return canvas


def save_png(path: pathlib.Path, image: np.ndarray) -> None:
    """Writes uint8 (H, W, 1|3) as PNG, atomically (temporary file, then rename)."""
    image = image[..., 0] if image.shape[-1] == 1 else image
    files.write_atomically(path, lambda f: Image.fromarray(image).save(f, format="PNG"))
