"""Real batches for the train step: deterministic, resumable, prefetched.

The order of examples is a function of (seed, epoch) alone, so the data position of a
run is one number: how many real batches it has consumed. Each epoch is a fresh
permutation; its last incomplete batch is dropped.
"""

import queue
import threading
from collections.abc import Callable, Iterator

import ml_collections
import numpy as np
from PIL import Image

from jaxgan.data.datasets import Dataset, TwoDomains
from jaxgan.runtime.errors import UserError


def fit_images(images: np.ndarray, image_size: int, num_channels: int) -> np.ndarray:
    """uint8 NHWC resized to image_size (bicubic, once) and converted to num_channels.

    Grey datasets asked for 3 channels stay grey here and are repeated per batch, which
    keeps the array in memory three times smaller.
    """
    if images.shape[-1] == 3 and num_channels == 1:
        luminance = images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        images = np.rint(luminance).clip(0, 255).astype(np.uint8)[..., None]
    if images.shape[1:3] != (image_size, image_size):
        mode = "L" if images.shape[-1] == 1 else "RGB"
        resized = [
            np.asarray(
                Image.fromarray(image.squeeze(-1) if mode == "L" else image, mode).resize(
                    (image_size, image_size), Image.BICUBIC
                )
            )
            for image in images
        ]
        images = np.stack(resized).reshape(len(images), image_size, image_size, -1)
    return images


def scaled(pixels: np.ndarray, num_channels: int) -> np.ndarray:
    """uint8 images to float32 in [-1, 1], grey repeated to num_channels."""
    if pixels.shape[-1] != num_channels:
        pixels = np.repeat(pixels, num_channels, axis=-1)
    return pixels.astype(np.float32) / 127.5 - 1.0


def batches_per_epoch(num_examples: int, batch_size: int) -> int:
    return num_examples // batch_size


def process_rows(batch_size: int, process_index: int, process_count: int) -> slice:
    """This process's rows of a global batch: its contiguous share."""
    local = batch_size // process_count
    return slice(process_index * local, (process_index + 1) * local)


def batch_indices(num_examples: int, batch_size: int, seed: int, batch_number: int) -> np.ndarray:
    """Indices of the `batch_number`-th global batch since the start of training."""
    per_epoch = batches_per_epoch(num_examples, batch_size)
    epoch, position = divmod(batch_number, per_epoch)
    order = np.random.default_rng([seed, epoch]).permutation(num_examples)
    return order[position * batch_size : (position + 1) * batch_size]


def real_batches(
    dataset: Dataset,
    config: ml_collections.ConfigDict,
    start_batch: int,
    process_index: int = 0,
    process_count: int = 1,
) -> Iterator[dict[str, np.ndarray]]:
    """Yields one step's real data: {'image': float32 (d_steps, B_local, H, W, C) in
    [-1, 1]} plus 'label' int32 (d_steps, B_local) when the dataset has labels. Vector
    data come as they are: 'image' float32 (d_steps, B_local, D).

    This process's rows are its contiguous share of each global batch. Two domains
    (TwoDomains) come as two_domain_batches makes them.
    """
    if isinstance(dataset, TwoDomains):
        yield from two_domain_batches(dataset, config, start_batch, process_index, process_count)
        return
    vectors = dataset.data_dim > 0
    images = dataset.images
    if not vectors:
        images = fit_images(images, config.image_size, config.num_channels)
    if batches_per_epoch(len(images), config.batch_size) == 0:
        raise UserError(
            f"the dataset has {len(images)} images, fewer than one batch of "
            f"{config.batch_size}: lower config.batch_size"
        )
    rows = process_rows(config.batch_size, process_index, process_count)
    batch_number = start_batch
    while True:
        step_images, step_labels = [], []
        for _ in range(config.d_steps):
            indices, mirrored = drawn_rows(len(images), config, batch_number, rows)
            chosen = images[indices]
            if mirrored is not None:
                chosen[mirrored] = chosen[mirrored, :, ::-1]
            step_images.append(chosen)
            if dataset.labels is not None:
                step_labels.append(dataset.labels[indices])
            batch_number += 1
        stacked = np.stack(step_images)
        batch = {"image": stacked if vectors else scaled(stacked, config.num_channels)}
        if step_labels:
            batch["label"] = np.stack(step_labels)
        yield batch


def drawn_rows(num_images: int, config, batch_number: int, rows: slice):
    """This process's rows of the `batch_number`-th batch: image indices, and which of
    them to mirror (None without config.x_flip; with it, the set is 2N images, entry
    N + i being image i mirrored)."""
    if not config.x_flip:
        drawn = batch_indices(num_images, config.batch_size, config.seed, batch_number)
        return drawn[rows], None
    drawn = batch_indices(2 * num_images, config.batch_size, config.seed, batch_number)[rows]
    return drawn % num_images, drawn >= num_images


def translation_load_size(config: ml_collections.ConfigDict) -> int:
    """The size two-domain training images are resized to before the random crop:
    config.translation_load_size, or 286/256 of image_size (the reference's 286)."""
    return config.translation_load_size or round(config.image_size * 286 / 256)


def drawn_indices(num_examples: int, seed: int, stream: int, start: int, count: int):
    """The indices of draws start .. start+count-1 from num_examples examples taken in
    a fresh permutation per pass over them (stream numbers the set)."""
    counters = np.arange(start, start + count)
    passes = counters // num_examples
    indices = np.empty(count, np.int64)
    for number in np.unique(passes):
        order = np.random.default_rng([seed, number, stream]).permutation(num_examples)
        chosen = passes == number
        indices[chosen] = order[counters[chosen] % num_examples]
    return indices


def random_crops(images: np.ndarray, size: int, rng: np.random.Generator, flip: bool):
    """A random size x size crop of each image, each mirrored left-right with
    probability 1/2 when `flip`: the reference's RandomCrop and RandomHorizontalFlip."""
    count, height, width = images.shape[:3]
    tops = rng.integers(0, height - size + 1, count)
    lefts = rng.integers(0, width - size + 1, count)
    mirrored = rng.random(count) < 0.5
    crops = []
    for image, top, left, mirror in zip(images, tops, lefts, mirrored, strict=True):
        crop = image[top : top + size, left : left + size]
        crops.append(crop[:, ::-1] if flip and mirror else crop)
    return np.stack(crops)


def two_domain_batches(
    dataset: TwoDomains,
    config: ml_collections.ConfigDict,
    start_batch: int,
    process_index: int = 0,
    process_count: int = 1,
) -> Iterator[dict[str, np.ndarray]]:
    """One step's images of each domain: {'a': ..., 'b': ...}, each float32 (d_steps,
    B_local, S, S, C) in [-1, 1] (S = config.image_size), cropped at random from the
    load-size images and flipped (config.translation_flip), independently for the two
    domains as the reference's unaligned dataset does, or for paired data (pix2pix) the
    same image, crop and flip for both, as its aligned dataset does.

    An epoch is the larger domain's count (the reference's len); each domain is drawn in
    its own order (a permutation per pass over it, where the reference draws B's images
    uniformly at random). Crops, flips and orders are functions of (seed, batch number),
    so a resumed run sees the same batches.
    """
    size = translation_load_size(config)
    domains = [fit_images(images, size, config.num_channels) for images in (dataset.a, dataset.b)]
    if batches_per_epoch(len(dataset), config.batch_size) == 0:
        raise UserError(
            f"the domains have {len(dataset.a)} and {len(dataset.b)} images, fewer than one "
            f"batch of {config.batch_size}: lower config.batch_size"
        )
    rows = process_rows(config.batch_size, process_index, process_count)
    batch_number = start_batch
    while True:
        step = {"a": [], "b": []}
        for _ in range(config.d_steps):
            for stream, (name, images) in enumerate(zip("ab", domains, strict=True), 1):
                # Pairs: B's images, crops and flips are A's.
                stream = 1 if dataset.paired else stream
                first = batch_number * config.batch_size
                indices = drawn_indices(len(images), config.seed, stream, first, config.batch_size)
                rng = np.random.default_rng([config.seed, batch_number, stream])
                crops = random_crops(
                    images[indices], config.image_size, rng, config.translation_flip
                )
                step[name].append(crops[rows])
            batch_number += 1
        yield {name: scaled(np.stack(parts), config.num_channels) for name, parts in step.items()}


def prefetch(iterator: Iterator, size: int, put: Callable = lambda x: x) -> Iterator:
    """Runs `put(next(iterator))` on a background thread, `size` items ahead.

    `put` moves a batch to the devices, so host-to-device copies overlap the step.
    An exception in the producer is raised in the consumer.
    """
    items: queue.Queue = queue.Queue(maxsize=max(size, 1))
    stop = threading.Event()

    def produce():
        try:
            for item in iterator:
                value = put(item)
                while not stop.is_set():
                    try:
                        items.put(("item", value), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as error:  # noqa: BLE001 - re-raised in the consumer
            items.put(("error", error))
        items.put(("end", None))

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            kind, value = items.get()
            if kind == "item":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        thread.join(timeout=10)
