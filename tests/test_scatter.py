"""jaxgan.sampling.scatter: where points and centres land, and that points beyond the view are
shown at its edge and counted rather than dropped."""

import numpy as np

from jaxgan.sampling import scatter

RING = np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], axis=1)


def pixel(image, x, y):
    return tuple(int(v) for v in image[y, x])


def near(image, x, y, colour, reach=1):
    """Whether `colour` is within `reach` pixels of (x, y): drawing rounds positions."""
    patch = image[y - reach : y + reach + 1, x - reach : x + reach + 1]
    return bool(np.any(np.all(patch == colour, axis=-1)))


def has_caption(image):
    # Text, antialiased or not, is the only dark ink in the top left corner.
    return bool(np.any(image[:20, :250].sum(axis=-1) < 200))


def test_a_point_lands_where_the_view_puts_it_and_centres_are_ringed():
    # The view spans [-1.5, 1.5]^2 over 512 pixels: (x + 1.5) / 3 * 511, y upwards, so
    # (0.5, -0.5) is at pixel (340.7, 340.7), and nowhere near its mirror images.
    image = scatter.scatter(np.array([[0.5, -0.5]]), RING)
    assert near(image, 341, 341, scatter.POINT)
    assert not near(image, 341, 170, scatter.POINT) and not near(image, 170, 341, scatter.POINT)
    # Centre (1, 0) is at pixel (425.8, 255.5); its ring has a radius of 5 pixels.
    assert near(image, 426 + 5, 255, scatter.CENTRE)
    assert pixel(image, 426, 255) != scatter.CENTRE  # a ring, not a disc
    # Nothing outside: no caption, no orange.
    assert not np.any(np.all(image == scatter.OUTSIDE, axis=-1))
    assert not has_caption(image)


def test_points_beyond_the_view_are_drawn_at_its_edge_and_counted():
    far = np.array([[100.0, 0.0], [0.0, -7.0], [np.nan, 0.0]])
    image = scatter.scatter(far, RING)
    # (100, 0) is drawn where the ray from the origin leaves the view: the right edge.
    assert near(image, 510, 255, scatter.OUTSIDE)
    # (0, -7): the bottom edge.
    assert near(image, 255, 510, scatter.OUTSIDE)
    assert not near(image, 255, 1, scatter.OUTSIDE, reach=3)  # not mirrored to the top
    # A caption in the top left says how many were outside, the NaN one too.
    assert has_caption(image)
    assert image.shape == (512, 512, 3) and image.dtype == np.uint8
