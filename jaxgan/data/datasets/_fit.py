"""Making one image square at the model's size, for datasets whose images vary in size.

Images come out at `config.image_size` already, so the input pipeline's resize (which
only squashes) leaves them alone.
"""

import numpy as np
from PIL import Image, ImageOps


def flatten_alpha(image: Image.Image) -> Image.Image:
    """Composites an image with transparency over white, as a viewer shows it, so
    transparent pixels do not take whatever colour they happen to store. Grey stays grey."""
    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        return image
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(white, rgba)
    return flat.convert("L" if image.mode in ("L", "LA") else "RGB")


def square(image: Image.Image, image_size: int) -> Image.Image:
    """The largest centred square, resized to image_size x image_size (bicubic; Pillow
    widens the filter when shrinking, so it does not alias)."""
    return ImageOps.fit(image, (image_size, image_size), Image.Resampling.BICUBIC)


def squash(image: Image.Image, image_size: int) -> Image.Image:
    """The whole image resized to image_size x image_size (bicubic), its aspect ratio
    ignored: torchvision's Resize([size, size]), which the image-to-image references use."""
    return image.resize((image_size, image_size), Image.Resampling.BICUBIC)


def fit_array(image: np.ndarray, image_size: int) -> np.ndarray:
    """uint8 (H, W, C) to (image_size, image_size, 1 or 3): alpha flattened over white,
    then centre-cropped and resized unless already that size; grey stays grey."""
    if image.shape[:2] == (image_size, image_size) and image.shape[-1] in (1, 3):
        return image
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[image.shape[-1]]
    pil = flatten_alpha(Image.fromarray(image[..., 0] if mode == "L" else image, mode))
    fitted = np.asarray(square(pil, image_size))
    return fitted[..., None] if fitted.ndim == 2 else fitted
