"""A scatter plot of generated 2D points over the true mode centres, drawn with Pillow
(no plotting library), so mode collapse can be watched while training runs."""

import numpy as np
from PIL import Image, ImageDraw

SIZE = 512
BACKGROUND = (255, 255, 255)
AXES = (220, 220, 220)
POINT = (31, 119, 180)
CENTRE = (214, 39, 40)
OUTSIDE = (255, 127, 14)  # points beyond the view, drawn at its edge
CAPTION = (0, 0, 0)
# The view spans the centres' extent times this, so points near the outer modes show.
MARGIN = 1.5


def extent(centres: np.ndarray) -> float:
    """Half the side of the (square, origin-centred) view."""
    return MARGIN * float(np.max(np.abs(centres)))


def scatter(points: np.ndarray, centres: np.ndarray, size: int = SIZE) -> np.ndarray:
    """uint8 (size, size, 3): `points` (N, 2) as dots, `centres` (K, 2) as red rings;
    y points up. Points outside the view are drawn in orange where the line from the
    origin to them leaves the view, and counted in a caption: a generator that throws
    samples far away is collapsing too, and must not look clean."""
    half = extent(centres)

    def to_pixels(xy: np.ndarray) -> np.ndarray:
        scaled = (np.asarray(xy, np.float64) + half) / (2 * half) * (size - 1)
        return np.stack([scaled[:, 0], size - 1 - scaled[:, 1]], axis=1)

    image = Image.new("RGB", (size, size), BACKGROUND)
    draw = ImageDraw.Draw(image)
    middle = (size - 1) / 2
    draw.line([(0, middle), (size - 1, middle)], fill=AXES)
    draw.line([(middle, 0), (middle, size - 1)], fill=AXES)
    points = np.asarray(points, np.float64).reshape(-1, 2)
    # Non-finite points have no place in the view; they are counted with the others.
    finite = np.all(np.isfinite(points), axis=1)
    inside = finite & np.all(np.abs(points) <= half, axis=1)
    for x, y in to_pixels(points[inside]):
        draw.ellipse([x - 1, y - 1, x + 1, y + 1], fill=POINT)
    far = points[finite & ~inside]
    at_edge = far * (half / np.max(np.abs(far), axis=1, keepdims=True)) if len(far) else far
    for x, y in to_pixels(at_edge):
        draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=OUTSIDE)
    for x, y in to_pixels(centres):
        draw.ellipse([x - 5, y - 5, x + 5, y + 5], outline=CENTRE, width=2)
    outside = len(points) - int(inside.sum())
    if outside:
        draw.text(
            (4, 4),
            f"{outside} of {len(points)} points outside this view (orange, at its edge)",
            fill=CAPTION,
        )
    return np.asarray(image)
