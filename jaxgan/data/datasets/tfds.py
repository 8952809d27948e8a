"""TensorFlow Datasets, read without TensorFlow: `tfds:NAME[:SPLIT]`, split `train` by
default (any TFDS split, e.g. `tfds:cifar10:test` or `tfds:cifar10:train[:10%]`).

`tfds.data_source` reads prepared ArrayRecord (or Parquet) files with numpy and Pillow.
jaxgan never downloads: prepare the files once, on a machine with internet, with

    pip install tensorflow-datasets && tfds build NAME --file_format=array_record --data_dir=DIR

(some datasets need TensorFlow to *build*; reading never does), copy DIR here, and set
`config.data_dir` to it (default: TFDS's own, $TFDS_DATA_DIR or ~/tensorflow_datasets).
Images are the uint8 'image' feature, made square at `config.image_size` when they are
not; labels are the 'label' feature when there is one.
"""

import ml_collections
import numpy as np
import tqdm

from jaxgan.data.datasets import Dataset, _fit
from jaxgan.runtime.errors import UserError

INSTALL = "pip install tensorflow-datasets"


def import_tfds():
    try:
        import tensorflow_datasets
    except ImportError as error:
        raise UserError(f"tfds: datasets need TensorFlow Datasets: run `{INSTALL}`") from error
    return tensorflow_datasets


def build_command(name: str) -> str:
    return f"tfds build {name} --file_format=array_record --data_dir=DIR"


def not_readable(tfds, name: str, split: str, data_dir: str | None, error: Exception) -> UserError:
    """Why `tfds.data_source` failed, as one line saying what to do."""
    builder = tfds.builder(name, data_dir=data_dir)
    where = builder.data_dir
    if not builder.is_prepared():
        return UserError(
            f"TFDS dataset {name} is not prepared in {where}, and jaxgan never downloads: on "
            f"a machine with internet run `{build_command(name)}`, then copy DIR's contents "
            f"into {builder.data_dir_root} or set config.data_dir to the copy"
        )
    file_format = builder.info.file_format
    if file_format is not None and file_format.value not in ("array_record", "parquet"):
        return UserError(
            f"TFDS dataset {name} in {where} is in {file_format.value} format, which needs "
            f"TensorFlow: prepare it again with `{build_command(name)}`"
        )
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    return UserError(f"cannot read split {split!r} of TFDS dataset {name} in {where}: {first_line}")


def open_source(tfds, name: str, split: str, data_dir: str | None):
    try:
        return tfds.data_source(name, split=split, data_dir=data_dir, download=False)
    except tfds.core.registered.DatasetNotFoundError as error:
        raise UserError(
            f"TFDS has no dataset {name!r}: see https://www.tensorflow.org/datasets/catalog"
        ) from error
    except (KeyError, ValueError, NotImplementedError, OSError, AssertionError) as error:
        raise not_readable(tfds, name, split, data_dir, error) from error


def load(argument: str | None, config: ml_collections.ConfigDict) -> Dataset:
    name, _, split = (argument or "").partition(":")
    if not name:
        raise UserError("config.dataset=tfds:NAME[:SPLIT] needs a dataset name, e.g. tfds:mnist")
    split = split or "train"
    tfds = import_tfds()
    source = open_source(tfds, name, split, config.data_dir or None)
    features = source.dataset_info.features
    if "image" not in features:
        raise UserError(f"TFDS dataset {name} has no 'image' feature, only {list(features)}")
    if not len(source):
        raise UserError(f"split {split!r} of TFDS dataset {name} is empty")
    images, labels = [], []
    for index in tqdm.trange(len(source), desc=f"reading tfds:{name}:{split}", unit="image"):
        example = source[index]
        image = np.asarray(example["image"])
        if image.dtype != np.uint8 or image.ndim != 3 or not 1 <= image.shape[-1] <= 4:
            raise UserError(
                f"TFDS dataset {name}'s images are {image.dtype} {image.shape}: jaxgan takes "
                "uint8 images with 1 to 4 channels"
            )
        images.append(_fit.fit_array(image, config.image_size))
        if "label" in features:
            labels.append(int(example["label"]))
    images = np.stack(images)
    if "label" not in features:
        return Dataset(images=images)
    labels = np.array(labels, np.int32)
    num_classes = getattr(features["label"], "num_classes", None) or int(labels.max()) + 1
    return Dataset(images=images, labels=labels, num_classes=num_classes)
