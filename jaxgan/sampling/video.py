"""Interpolation videos: the frames of a latent walk as an animated GIF (Pillow) or an
MP4 (H.264 through the ffmpeg that the PyPI package imageio-ffmpeg ships), written
atomically like every other output."""

import os
import pathlib
import tempfile

import numpy as np
from PIL import Image

from jaxgan.runtime import files
from jaxgan.runtime.errors import UserError

SUFFIXES = (".gif", ".mp4")

# Generated images are small (28 px for MNIST): a player shows a 28-px video as a speck,
# or smooths it into mush when enlarged. Frames are enlarged by an integer factor,
# nearest-neighbour, so the shorter side is at least this many pixels.
MIN_SIDE = 256


def check_encoder(path: pathlib.Path) -> None:
    """Refuses an .mp4 when imageio-ffmpeg is missing, before anything is computed."""
    if pathlib.Path(path).suffix.lower() != ".mp4":
        return
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError as error:
        raise UserError(
            f"--out={path} needs the package imageio-ffmpeg (it ships the ffmpeg that encodes "
            "MP4): pip install imageio-ffmpeg (or pip install -e '.[video]'), or write a .gif"
        ) from error


def enlarge(frames: np.ndarray, min_side: int = MIN_SIDE) -> np.ndarray:
    """uint8 (T, H, W, C) frames repeated k times along H and W, the smallest k that makes
    min(H, W) * k >= min_side (k = 1 for frames already that large)."""
    factor = max(1, -(-min_side // min(frames.shape[1:3])))
    return frames.repeat(factor, axis=1).repeat(factor, axis=2)


def write(path: pathlib.Path, frames: np.ndarray, fps: float) -> None:
    """uint8 (T, H, W, 1|3) frames as a video at `fps` frames per second; the format is
    the suffix of `path` (.gif or .mp4)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = enlarge(frames)
    if path.suffix.lower() == ".gif":
        _write_gif(path, frames, fps)
    else:
        _write_mp4(path, frames, fps)


def _write_gif(path: pathlib.Path, frames: np.ndarray, fps: float) -> None:
    pictures = [Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f) for f in frames]
    # GIF stores each frame's delay in hundredths of a second.
    duration = 10 * max(1, round(100 / fps))
    files.write_atomically(
        path,
        lambda f: pictures[0].save(
            f, format="GIF", save_all=True, append_images=pictures[1:], duration=duration, loop=0
        ),
    )


def _write_mp4(path: pathlib.Path, frames: np.ndarray, fps: float) -> None:
    import imageio_ffmpeg

    if frames.shape[-1] == 1:
        frames = frames.repeat(3, axis=-1)
    # H.264 in yuv420p needs even sides; pad with black rather than let ffmpeg rescale.
    height, width = frames.shape[1:3]
    frames = np.pad(frames, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)))
    # ffmpeg writes to a name it chooses the format from, so the temporary file keeps the
    # suffix; it is renamed over `path` only once complete.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".mp4")
    os.close(fd)
    try:
        writer = imageio_ffmpeg.write_frames(
            temporary,
            (frames.shape[2], frames.shape[1]),
            fps=fps,
            codec="libx264",
            quality=None,
            output_params=["-crf", "18"],  # visually lossless for these flat images
            macro_block_size=1,
        )
        try:
            writer.send(None)  # starts ffmpeg
            for frame in frames:
                writer.send(np.ascontiguousarray(frame))
        finally:
            writer.close()
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except (OSError, RuntimeError) as error:
        pathlib.Path(temporary).unlink(missing_ok=True)
        raise UserError(f"ffmpeg could not write {path}: {error}") from error
    except BaseException:
        pathlib.Path(temporary).unlink(missing_ok=True)
        raise
