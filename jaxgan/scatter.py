"""A scatter plot of generated 2D points over the true mode centres, drawn with Pillow
(no plotting library), so mode collapse can be watched while training runs."""

import numpy as np
from PIL import Image, ImageDraw

SIZE = 512
BACKGROUND = (255, 255, 255)
AXES = (220, 220, 220)
POINT = (31, 119, 180)
CENTRE = (214, 39, 40)
# The view spans the centres' extent times this, so points near the outer modes show.
MARGIN = 1.5


def extent(centres: np.ndarray) -> float:
    """Half the side of the (square, origin-centred) view."""
    return MARGIN * float(np.max(np.abs(centres)))


def scatter(points: np.ndarray, centres: np.ndarray, size: int = SIZE) -> np.ndarray:
    """uint8 (size, size, 3): `points` (N, 2) as dots, `centres` (K, 2) as red rings;
    y points up. Points outside the view are left out."""
    half = extent(centres)

    def to_pixels(xy: np.ndarray) -> np.ndarray:
        scaled = (np.asarray(xy, np.float64) + half) / (2 * half) * (size - 1)
        return np.stack([scaled[:, 0], size - 1 - scaled[:, 1]], axis=1)

    image = Image.new("RGB", (size, size), BACKGROUND)
    draw = ImageDraw.Draw(image)
    middle = (size - 1) / 2
    draw.line([(0, middle), (size - 1, middle)], fill=AXES)
    draw.line([(middle, 0), (middle, size - 1)], fill=AXES)
    shown = to_pixels(points[np.all(np.abs(points) <= half, axis=1)])
    for x, y in shown:
        draw.ellipse([x - 1, y - 1, x + 1, y + 1], fill=POINT)
    for x, y in to_pixels(centres):
        draw.ellipse([x - 5, y - 5, x + 5, y + 5], outline=CENTRE, width=2)
    return np.asarray(image)
