"""Super-resolves your own images with a trained SRResNet / SRGAN run (the srgan family):

  python -m jaxgan.upscale --workdir=runs/sr --input=small.png --out=big.png
  python -m jaxgan.upscale --workdir=runs/sr --input=photos/ --out=photos_x4/

Everything else is jaxgan.translate's (jaxgan/translate.py): an image or a folder, names
and formats kept, images of any size (larger ones in overlapping tiles, blended), no
overwriting without --overwrite, never over an input, every file written whole. The
outputs are srgan_scale times the inputs' size.
"""

from absl import app, flags

from jaxgan.runtime import cli
from jaxgan.sampling import translation

_WORKDIR = flags.DEFINE_string("workdir", None, "Directory of a trained srgan run.", required=True)
_INPUT = flags.DEFINE_string("input", None, "An image, or a folder of images.", required=True)
_OUT = flags.DEFINE_string("out", None, "The output image, or folder.", required=True)
_STEP = flags.DEFINE_integer("step", None, "Checkpoint step (default: latest).")
_TILE = flags.DEFINE_integer("tile", 256, "Largest input side upscaled whole; else tiles of it.")
_OVERLAP = flags.DEFINE_integer("overlap", 16, "Input pixels shared by neighbouring tiles.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Write over existing outputs.")


def main(argv):
    translation.command_main(
        argv,
        _OUT.value,
        workdir=_WORKDIR.value,
        source=_INPUT.value,
        command="upscale",
        step=_STEP.value,
        tile=_TILE.value,
        overlap=_OVERLAP.value,
        overwrite=_OVERWRITE.value,
    )


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
