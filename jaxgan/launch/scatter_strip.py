"""A figure of 2D runs over time: each run's scatter plots (samples/scatter_<step>.png,
written with every checkpoint) side by side at the given steps, one row per run, the
picture of Metz et al. 2017's figure 2.

    python -m jaxgan.launch.scatter_strip --steps=0,5000,10000,15000,20000,25000 \\
        --out=docs/images/ring8_gan_vs_unrolled.png \\
        "sweeps/ring8/gan/seed=0:GAN" "sweeps/ring8/unrolled5/seed=0:unrolled GAN (5 steps)"

Each run is WORKDIR or WORKDIR:LABEL (the label defaults to the workdir's name).
"""

import argparse
import pathlib
import sys

from PIL import Image, ImageDraw

from jaxgan.runtime import cli
from jaxgan.runtime.errors import UserError

LABEL_HEIGHT = 16
LABEL_WIDTH = 150


def parse_run(arg: str) -> tuple[pathlib.Path, str]:
    """WORKDIR or WORKDIR:LABEL; a workdir whose own path has ':' (a grid value such as
    dataset=ring8:1000) stays whole when it exists."""
    path, colon, label = arg.rpartition(":")
    if not colon or pathlib.Path(arg).is_dir() or not pathlib.Path(path).is_dir():
        path, label = arg, ""
    return pathlib.Path(path), label or pathlib.Path(path).name


def strip(runs: list[tuple[pathlib.Path, str]], steps: list[int], tile: int) -> Image.Image:
    """The figure: a header row of steps, then one row per run (label, then its plots)."""
    width = LABEL_WIDTH + tile * len(steps)
    figure = Image.new("RGB", (width, LABEL_HEIGHT + tile * len(runs)), "white")
    draw = ImageDraw.Draw(figure)
    for column, step in enumerate(steps):
        draw.text((LABEL_WIDTH + column * tile + 4, 2), f"step {step:,}", fill="black")
    for row, (workdir, label) in enumerate(runs):
        top = LABEL_HEIGHT + row * tile
        draw.text((4, top + tile // 2 - 6), label, fill="black")
        for column, step in enumerate(steps):
            path = workdir / "samples" / f"scatter_{step}.png"
            if not path.exists():
                raise UserError(
                    f"{path} does not exist: the run has no scatter plot at step {step} "
                    "(one is written with every checkpoint; pick --steps among them)"
                )
            with Image.open(path) as plot:
                figure.paste(plot.convert("RGB").resize((tile, tile), Image.LANCZOS),
                             (LABEL_WIDTH + column * tile, top))  # fmt: skip
    return figure


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jaxgan.launch.scatter_strip")
    parser.add_argument("runs", nargs="+", metavar="WORKDIR[:LABEL]")
    parser.add_argument("--out", required=True, help="the PNG to write")
    parser.add_argument("--steps", default="0,5000,10000,15000,20000,25000")
    parser.add_argument("--tile", type=int, default=160, help="each plot's side in pixels")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    return parser


def main(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    with cli.user_errors():
        out = pathlib.Path(args.out)
        if out.exists() and not args.overwrite:
            raise UserError(f"{out} exists: pass --overwrite to replace it, or another --out")
        try:
            steps = [int(step) for step in args.steps.split(",")]
        except ValueError as error:
            raise UserError(f"--steps must be integers, got {args.steps!r}") from error
        if args.tile < 16:
            raise UserError(f"--tile must be at least 16 pixels, got {args.tile}")
        figure = strip([parse_run(arg) for arg in args.runs], steps, args.tile)
        out.parent.mkdir(parents=True, exist_ok=True)
        # A few colours are all the plots use: a palette keeps the file to tens of KB.
        figure.quantize(colors=64, method=Image.Quantize.FASTOCTREE).save(out, optimize=True)
        print(f"wrote {out} ({out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main(sys.argv[1:])
