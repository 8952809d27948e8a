"""Prepares a folder or .zip of images for training from disk, memory-mapped
(`config.dataset = "prepared:DIR"`), for sets larger than memory:

  python -m jaxgan.prepare_dataset --source=ffhq-images/ --out=data/ffhq256 --resolution=256
  python -m jaxgan.prepare_dataset --source=photos.zip --out=data/photos64 --resolution=64 \\
      --transform=pad --labels=subfolders

Each image is made square (--transform) and resized (--filter, Lanczos by default, as
StyleGAN's dataset_tool.py) once; labels come from the source's dataset.json or its
sub-folders (--labels). The format and what is checked when it is read:
jaxgan/data/datasets/prepared.py. An existing --out is never written into.
"""

from absl import app, flags

from jaxgan.data import prepare
from jaxgan.runtime import cli

_SOURCE = flags.DEFINE_string("source", None, "A folder or .zip of images.", required=True)
_OUT = flags.DEFINE_string("out", None, "The new folder to write.", required=True)
_RESOLUTION = flags.DEFINE_integer("resolution", None, "Side of the square images.", required=True)
_CHANNELS = flags.DEFINE_integer("channels", 3, "1 (grey) or 3 (RGB).")
_TRANSFORM = flags.DEFINE_enum(
    "transform", "center-crop", prepare.TRANSFORMS, "How an image is made square."
)
_FILTER = flags.DEFINE_enum("filter", "lanczos", sorted(prepare.FILTERS), "Resize filter.")
_LABELS = flags.DEFINE_enum(
    "labels",
    "auto",
    prepare.LABEL_SOURCES,
    "auto: the source's dataset.json when it has one, else none.",
)
_SHARD_SIZE = flags.DEFINE_integer("shard_size", 4096, "Images per shard file.")
_SKIP_BAD = flags.DEFINE_bool("skip_bad_files", False, "Leave out unreadable files.")


def main(argv):
    if len(argv) > 1:
        cli.fail(f"unexpected arguments {argv[1:]}: every option is a --flag")
    with cli.user_errors():
        manifest = prepare.prepare(
            _SOURCE.value,
            _OUT.value,
            _RESOLUTION.value,
            channels=_CHANNELS.value,
            transform=_TRANSFORM.value,
            resize_filter=_FILTER.value,
            labels=_LABELS.value,
            shard_size=_SHARD_SIZE.value,
            skip_bad_files=_SKIP_BAD.value,
        )
    skipped = len(manifest["skipped"])
    classes = f", {manifest['num_classes']} classes" if manifest["num_classes"] else ""
    print(
        f"jaxgan: wrote {manifest['count']} images at {manifest['resolution']}x"
        f"{manifest['resolution']}x{manifest['channels']}{classes} in "
        f"{len(manifest['shards'])} shards to {_OUT.value}"
        + (
            f" ({skipped} unreadable files left out, listed in its manifest.json)"
            if skipped
            else ""
        )
    )
    print(
        f"train on it with --config.dataset=prepared:{_OUT.value} "
        f"--config.image_size={manifest['resolution']} --config.num_channels={manifest['channels']}"
    )


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
