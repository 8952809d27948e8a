"""Two unpaired image domains in CycleGAN's layout: `unpaired:PATH` reads PATH/trainA and
PATH/trainB (every PNG, JPEG and WebP image in them, any sizes), and PATH/testA and
PATH/testB when present, as junyanz/pytorch-CycleGAN-and-pix2pix's `unaligned` dataset
finds them (horse2zebra and the other downloads of its datasets/ scripts unpack so).

Training images are resized whole to the load size (`config.translation_load_size`,
default 286/256 of config.image_size; the aspect ratio is not kept, as the reference's
Resize([286, 286])), from which the input pipeline takes random image_size crops and
flips; test images are resized to config.image_size, as the reference's test options
do. Decoding happens once per folder, cached as `folder:PATH` is (folder.py).
"""

import ml_collections
import numpy as np

from jaxgan.data import pipeline
from jaxgan.data.datasets import TwoDomains, folder
from jaxgan.runtime.errors import UserError


def load(argument: str | None, config: ml_collections.ConfigDict) -> TwoDomains:
    if not argument:
        raise UserError(
            "config.dataset=unpaired:PATH needs the folder after 'unpaired:' (holding "
            "trainA/ and trainB/)"
        )
    root = folder.existing_folder(
        argument,
        "the unpaired dataset folder",
        "give --config.dataset=unpaired:DIR, a folder in CycleGAN's layout (DIR/trainA and "
        "DIR/trainB of images, as its datasets/download_cyclegan_dataset.sh makes them)",
    )
    missing = [side for side in ("trainA", "trainB") if not (root / side).is_dir()]
    if missing:
        raise UserError(
            f"{root} has no {' or '.join(missing)}: unpaired:PATH reads CycleGAN's layout, "
            "PATH/trainA and PATH/trainB (and optionally testA, testB) of images"
        )
    train = {
        side: folder.readable_images(
            root / f"train{side}", config, pipeline.translation_load_size(config), True
        )
        for side in "AB"
    }
    test = {}
    for side in "AB":
        path = root / f"test{side}"
        shape = (0, config.image_size, config.image_size, config.num_channels)
        test[side] = (
            folder.readable_images(path, config, squash=True)["images"]
            if path.is_dir()
            else np.zeros(shape, np.uint8)
        )
    return TwoDomains(
        a=train["A"]["images"], b=train["B"]["images"], test_a=test["A"], test_b=test["B"]
    )
