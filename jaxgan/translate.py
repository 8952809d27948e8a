"""Applies a trained image-to-image run (the cyclegan family) to your own images:

  python -m jaxgan.translate --workdir=runs/h2z --input=my_photos/ --out=zebras/
  python -m jaxgan.translate --workdir=runs/h2z --input=zebra.jpg --out=horse.png --direction=BtoA

--input is an image or a folder of them (read recursively; names starting with '.' are
left out); --out is then an image file or a folder, where each translation keeps its
input's relative name and format. Images keep their size: the generator is fully
convolutional, and images larger than --tile pixels on a side are translated in
overlapping tiles blended so that no seam shows (jaxgan/sampling/tiling.py). Existing
outputs are refused unless --overwrite, an output never replaces an input, and every
file is written whole (a temporary file, then a rename). Every input is checked before
anything is written.
"""

from absl import app, flags

from jaxgan.runtime import cli
from jaxgan.sampling import translation

_WORKDIR = flags.DEFINE_string("workdir", None, "Directory of a trained run.", required=True)
_INPUT = flags.DEFINE_string("input", None, "An image, or a folder of images.", required=True)
_OUT = flags.DEFINE_string("out", None, "The output image, or folder.", required=True)
_DIRECTION = flags.DEFINE_enum("direction", "AtoB", translation.DIRECTIONS, "AtoB: domain A -> B.")
_STEP = flags.DEFINE_integer("step", None, "Checkpoint step (default: latest).")
_TILE = flags.DEFINE_integer("tile", 512, "Largest side translated whole; else tiles of it.")
_OVERLAP = flags.DEFINE_integer("overlap", 64, "Pixels shared by neighbouring tiles.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Write over existing outputs.")


def main(argv):
    translation.command_main(
        argv,
        _OUT.value,
        workdir=_WORKDIR.value,
        source=_INPUT.value,
        direction=_DIRECTION.value,
        step=_STEP.value,
        tile=_TILE.value,
        overlap=_OVERLAP.value,
        overwrite=_OVERWRITE.value,
    )


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
