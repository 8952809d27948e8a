"""Scoring a generator: restore a checkpoint, sample, featurize, compare with the reference.

Used by `python -m jaxgan.evaluate` (one checkpoint, --watch, or two image sets) and by
training's FID every `config.fid_every_steps`. A record is written to
`WORKDIR/eval/metrics_<step>.json` (atomically: an earlier file of the same step is
replaced only by a complete new one) and to TensorBoard under `eval/`.
"""

import dataclasses
import functools
import pathlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

import jaxgan
from jaxgan import families
from jaxgan.config import defaults as config_defaults
from jaxgan.data import datasets
from jaxgan.metrics import bigan as bigan_evaluation
from jaxgan.metrics import (
    class_accuracy,
    featurize,
    image_sets,
    inception,
    mode_evaluation,
    reference,
    scoring,
    super_resolution,
    translation,
)
from jaxgan.metrics import fid as metrics
from jaxgan.metrics.featurize import say
from jaxgan.runtime import files, sharding, summary
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import latents as latent_vectors
from jaxgan.sampling import restore as generate
from jaxgan.sampling import sampler as sampling
from jaxgan.training import checkpoints
from jaxgan.training import state as train_state
from jaxgan.training import workdir as workdir_lib
from jaxgan.training.state import NetState, TrainState

STANDARD_NUM_SAMPLES = 50_000
DEFAULT_BATCH_SIZE = 64
# Training's sample grid draws its latents from seed + 1; evaluation has its own stream, the
# same for every checkpoint of a run, so successive scores differ by the generator alone.
LATENT_SEED_OFFSET = 2
INCEPTION_RESIZE = "bilinear to 299x299 as TensorFlow 1 (nv_bilinear), grey repeated to RGB"


def metrics_path(workdir: pathlib.Path, step: int, truncation: float | None = None) -> pathlib.Path:
    """eval/metrics_<step>.json, or for truncated latents metrics_<step>_truncation_<T>.json
    (beside, never instead of, the step's own record)."""
    suffix = "" if truncation is None else f"_truncation_{truncation:g}"
    return pathlib.Path(workdir) / "eval" / f"metrics_{step}{suffix}.json"


def scored_steps(workdir: pathlib.Path) -> set[int]:
    """Steps that have a metrics file."""
    found = (pathlib.Path(workdir) / "eval").glob("metrics_*.json")
    return {int(s) for p in found if (s := p.stem.removeprefix("metrics_")).isdigit()}


@functools.lru_cache(maxsize=1)
def inception_features(batch_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """The FID network's `features(images)`, loaded once per process (~90 MB of weights),
    run in batches of `batch_size` images, at most inception.feature_batch_size(). Its
    callers show one bar for the whole job (featurize.Meter), so it shows none of its own."""
    _, features = inception.load_inception(
        batch_size=min(batch_size, inception.feature_batch_size())
    )
    return functools.partial(features, progress=False)


# -- Restoring a generator: generate.restore, the one path for sample and evaluate --------


def restore_generator(workdir: pathlib.Path, step: int | None = None) -> generate.Restored:
    """The run's checkpoint `step` (the latest by default): generate.restore."""
    return generate.restore(workdir, step)


# -- Sampling ---------------------------------------------------------------------------------


def _drawer(
    config: ml_collections.ConfigDict,
    generator: nn.Module,
    batch_size: int,
    mesh: Mesh,
    truncation: float | None = None,
) -> Callable[[NetState, jax.Array], tuple[jax.Array, jax.Array]]:
    # A family may sample otherwise for scores (stylegan2: random noise, as its metrics),
    # and truncate inside G (stylegan2: towards w_avg) instead of in the latents.
    family = families.of(config)
    options = dict(getattr(family, "scoring_options", lambda c: {})(config))
    if truncation is not None and hasattr(family, "truncation_options"):
        options.update(family.truncation_options(config, truncation, None))
        truncation = None
    sample = sampling.make_sampler(generator, config.sample_with_running_stats, options)
    rows = NamedSharding(mesh, P("data"))

    def latents(key):
        if truncation is None:
            return sampling.latents(key, batch_size, config)
        # BigGAN's truncation trick: components outside [-T, T] resampled, not clipped.
        shape = (batch_size, config.latent_dim)
        return jax.random.truncated_normal(key, -truncation, truncation, shape)

    def draw(g: NetState, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        z = jax.lax.with_sharding_constraint(latents(key), rows)
        images = sample(g, z)
        finite = jnp.all(jnp.isfinite(images), axis=tuple(range(1, images.ndim)))
        # Vector data (config.data_dim) are points, returned as they are.
        return (images if config.data_dim else inception.to_uint8(images)), finite

    return jax.jit(draw)


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
    devices = mesh.devices.size
    if batch_size % devices:
        raise UserError(
            f"--batch_size={batch_size} must be a multiple of the {devices} devices: try "
            f"--batch_size={max(devices, batch_size - batch_size % devices)}"
        )


def generated_batches(
    config: ml_collections.ConfigDict,
    generator: nn.Module,
    g: NetState,
    num: int,
    batch_size: int,
    step: int,
    mesh: Mesh | None = None,
    truncation: float | None = None,
) -> Iterator[np.ndarray]:
    """`num` generated uint8 images (float vectors for vector data) in batches, sampled on
    every device of `mesh` (from truncated latents with `truncation`).

    Every batch is drawn whole (one compiled shape); the last is cut to what is needed.
    Non-finite images stop it with an error naming the step, before any feature is computed.
    """
    mesh = mesh or sharding.data_mesh()
    check_batch_size(batch_size, mesh)
    draw = _drawer(config, generator, batch_size, mesh, truncation)
    key = jax.random.key(config.seed + LATENT_SEED_OFFSET)
    for index, start in enumerate(range(0, num, batch_size)):
        pixels, finite = jax.device_get(draw(g, jax.random.fold_in(key, index)))
        valid = min(batch_size, num - start)
        if not finite[:valid].all():
            raise UserError(
                f"the generator of step {step} produced NaN or infinite images "
                f"({int((~finite[:valid]).sum())} of batch {index}): this checkpoint cannot "
                "be scored"
            )
        yield pixels[:valid]


def _batches(images: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    for start in range(0, len(images), batch_size):
        yield images[start : start + batch_size]


# -- Scoring ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RealSide:
    """What the generated images are compared with, before any feature is computed."""

    features: np.ndarray | None  # the cached reference features
    stats: metrics.FeatureStats | None  # or a user's mu/sigma (FID only)
    images: np.ndarray | None  # or the images whose features are still to compute
    cache: reference.Reference | None  # where computed features are cached
    protocol: dict[str, Any]


def reference_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """`config` with its dataset the FID reference's (config.fid_reference, when set)."""
    if not config.get("fid_reference"):
        return config
    copied = ml_collections.ConfigDict(config.to_dict())
    copied.dataset = config.fid_reference
    return copied


def real_side(
    config: ml_collections.ConfigDict, num_real: int | None, real_stats: str | None
) -> RealSide:
    """The reference: `config`'s dataset split, or config.fid_reference's (`num_real`
    images of it, all when None; cached, see jaxgan/metrics/reference.py), or the
    statistics file `real_stats`."""
    if real_stats is not None:
        if num_real is not None:
            raise UserError("--num_real has no use with --real_stats, which fixes the reference")
        note = (
            f"the reference is {real_stats}; how it was computed (split, image size, resize, "
            "feature network) is not recorded in it"
        )
        protocol = {"dataset": None, "split": None, "real": str(real_stats), "notes": [note]}
        return RealSide(None, image_sets.load_stats(real_stats), None, None, protocol)
    config = reference_config(config)
    dataset = datasets.load(config)
    ref = reference.describe(config, num_real, len(dataset))
    features = reference.load_cached(ref)
    if features is not None:
        say(f"reference features from the cache {ref.features_path}")
    subset = f" (a fixed random subset, seed {reference.SUBSET_SEED})" if ref.subset else ""
    protocol = {
        "dataset": ref.dataset,
        "split": ref.split,
        "real": f"{ref.num_images} of the {len(dataset)} images of {config.dataset}{subset}",
        "notes": [],
    }
    images = reference.images_of(ref, dataset) if features is None else None
    return RealSide(features, None, images, ref, protocol)


def _features_of(real: RealSide, features, batch_size: int, meter) -> np.ndarray:
    """A reference's features: cached, or computed now and cached (None for mu/sigma)."""
    if real.images is None:
        return real.features
    computed = featurize.features_of(
        _batches(real.images, batch_size), len(real.images), features, batch_size, meter
    )
    reference.save_cached(real.cache, computed)
    return computed


def score_generator(
    config: ml_collections.ConfigDict,
    generator: nn.Module,
    g: NetState,
    step: int,
    *,
    num_samples: int | None = STANDARD_NUM_SAMPLES,
    batch_size: int = DEFAULT_BATCH_SIZE,
    num_real: int | None = None,
    real_stats: str | None = None,
    mesh: Mesh | None = None,
    source: str = "",
    slow_hint: str = "",
    truncation: float | None = None,
) -> dict[str, Any]:
    """The metrics record of `num_samples` images of `g` against the reference (real_side);
    for the mode-collapse benchmarks, the mode metrics of its samples (mode_evaluation).
    `num_samples` None is the standard count (50k; the benchmark's own for those).
    `slow_hint` is said after the ETA when that is over an hour. `truncation` T draws
    the latents from N(0, 1) truncated to [-T, T] (BigGAN's truncation trick)."""
    check_truncation(config, truncation)
    benchmark = mode_evaluation.benchmark(config)
    if "modes" in train_state.resolve(config)[0].evaluators(config):
        if num_real is not None or real_stats is not None:
            raise UserError("--num_real and --real_stats are for FID: this run is scored by modes")
        num = num_samples or mode_evaluation.DEFAULT_NUM_SAMPLES[benchmark]
        mesh = mesh or sharding.data_mesh()
        samples = np.concatenate(
            list(generated_batches(config, generator, g, num, batch_size, step, mesh, truncation))
        )
        protocol = {
            "fake": source or f"generator at step {step}",
            "latents": _generator_protocol(config, step, source, batch_size, truncation)["latents"],
        }
        return mode_evaluation.record(config, samples, step, protocol)
    num_samples = num_samples or STANDARD_NUM_SAMPLES
    if num_samples < 2:
        raise UserError(f"--num_samples={num_samples}: FID needs at least 2 samples")
    mesh = mesh or sharding.data_mesh()
    check_batch_size(batch_size, mesh)
    # Weights first: their errors (missing, corrupt) come before any long computation.
    features = inception_features(batch_size)
    real = real_side(config, num_real, real_stats)
    to_compute = 0 if real.images is None else len(real.images)
    cached = "; their features are computed now, then cached" if to_compute else ""
    say(
        f"FID of {source or f'the generator at step {step}'}: {num_samples} generated "
        f"images against {real.protocol['real']}{cached}"
    )
    meter = featurize.Meter(num_samples + to_compute, slow_hint)
    try:
        fake = featurize.features_of(
            generated_batches(
                config, generator, g, num_samples, batch_size, step, mesh, truncation
            ),
            num_samples,
            features,
            batch_size,
            meter,
        )
        real_features = _features_of(real, features, batch_size, meter)
    finally:
        meter.close()
    protocol = {
        **real.protocol,
        **_generator_protocol(config, step, source, batch_size, truncation),
    }
    protocol["notes"] = list(real.protocol["notes"])
    if real.cache is not None and (real.cache.subset or num_samples != STANDARD_NUM_SAMPLES):
        protocol["notes"].append(
            f"{num_samples} generated against {real.cache.num_images} real images: not the "
            f"usual protocol ({scoring.PAPER_PROTOCOL}); compare only with the same counts"
        )
    return scoring.record(step, fake, real_features, real.stats, protocol)


def check_truncation(config: ml_collections.ConfigDict, truncation: float | None) -> None:
    if truncation is None:
        return
    if not truncation > 0:
        raise UserError(f"--truncation must be positive, got {truncation}")
    prior = latent_vectors.distribution(config)
    if prior != "normal":
        raise UserError(f"--truncation is for Gaussian latents: this run's prior is {prior}")


def _generator_protocol(
    config: ml_collections.ConfigDict,
    step: int,
    source: str,
    batch_size: int,
    truncation: float | None = None,
) -> dict[str, Any]:
    latents = (
        f"{LATENT_NAMES[latent_vectors.distribution(config)]}, seed {config.seed} + "
        f"{LATENT_SEED_OFFSET}, the same for every step"
    )
    if truncation is not None and hasattr(families.of(config), "truncation_options"):
        latents += f"; w truncated towards w_avg with psi {truncation:g}"
    elif truncation is not None:
        latents += f"; truncated to [-{truncation:g}, {truncation:g}] (components resampled)"
    return {
        "fake": source or f"generator at step {step}",
        "image_size": [config.image_size, config.image_size],
        "num_channels": config.num_channels,
        "resize": "real images: PIL bicubic to image_size, as training sees them; all images: "
        + INCEPTION_RESIZE,
        "sampling": (
            "G with its running BatchNorm statistics (eval mode)"
            if config.sample_with_running_stats
            else f"G normalising by the statistics of each batch of {batch_size}"
        ),
        "latents": latents,
        "jaxgan_version": jaxgan.__version__,
    }


LATENT_NAMES = {"normal": "N(0, I)", "uniform": "U[-1, 1]^d"}


class EvalWriter(summary.Writer):
    """TensorBoard scalars of an evaluation process, in its own event file.

    tensorboardX names event files by second and host alone: the suffix keeps this file
    apart from training's when both start in the same second.
    """

    def __init__(self, workdir: pathlib.Path):  # Writer's __init__ would not take the suffix
        self.enabled = True
        logdir = pathlib.Path(workdir) / "tensorboard"
        self.tensorboard = summary.SummaryWriter(str(logdir), filename_suffix=".eval")
        # The evaluation binary logs to TensorBoard only (evaluation during training goes
        # to training's writer, W&B included).
        self.wandb = None


def publish(
    workdir: pathlib.Path,
    record: dict[str, Any],
    writer: summary.Writer,
    truncation: float | None = None,
) -> None:
    """Writes eval/metrics_<step>.json (replacing only that step's file, once complete) and
    the metrics as TensorBoard scalars `eval/<name>` (with truncated latents: their own
    file and scalars `eval_truncation_<T>/<name>`)."""
    path = metrics_path(workdir, record["step"], truncation)
    path.parent.mkdir(parents=True, exist_ok=True)
    files.write_json(path, record)
    names = (
        *scoring.METRICS,
        *mode_evaluation.METRICS,
        *bigan_evaluation.METRICS,
        *translation.METRICS,
        *super_resolution.METRICS,
    )
    tag = "eval" if truncation is None else f"eval_truncation_{truncation:g}"
    values = {f"{tag}/{name}": record.get(name) for name in names}
    writer.scalars(record["step"], {n: v for n, v in values.items() if v is not None})


QUICKER_ESTIMATE = (
    "for a quicker estimate give fewer images, e.g. --num_samples=5000 --num_real=10000 "
    "(compare such FIDs only with FIDs of the same counts)"
)


def _score_checkpoint(
    workdir: pathlib.Path, step: int | None, options: dict[str, Any]
) -> dict[str, Any]:
    checkpoint = restore_generator(workdir, step)
    if hasattr(checkpoint.family, "translate"):  # image-to-image: its own scores
        if any(options.get(name) is not None for name in ("truncation", "real_stats")):
            raise UserError(
                f"{workdir} is an image-to-image run: --truncation and --real_stats are for "
                "generators of noise"
            )
        if hasattr(checkpoint.family, "output_scale"):  # super-resolution
            say(f"super-resolving the evaluation images (step {checkpoint.step})")
            num = options.get("num_samples")
            batch = options.get("batch_size", DEFAULT_BATCH_SIZE)
            return super_resolution.record(checkpoint, num, inception_features(batch), batch)
        say(f"translating the test images of {checkpoint.config.dataset} (step {checkpoint.step})")
        return translation.record(checkpoint)
    record = score_generator(
        checkpoint.config,
        checkpoint.generator,
        checkpoint.net,
        checkpoint.step,
        source=str(checkpoints.directory(workdir) / str(checkpoint.step)),
        slow_hint=QUICKER_ESTIMATE,
        **options,
    )
    if options.get("truncation") is not None:
        # The family's evaluators draw their own, untruncated latents: not this record's.
        record["protocol"]["notes"].append("family evaluators: not run with --truncation")
        return record
    return {**record, **family_scores(checkpoint)}


# A family's own evaluators (its `evaluators(config)` names them besides "images" or
# "modes", which score_generator computes): name -> (restored run -> metrics).
FAMILY_EVALUATORS = {"bigan": bigan_evaluation.record, "class_accuracy": class_accuracy.record}


def family_scores(restored: generate.Restored) -> dict[str, Any]:
    scores = {}
    for name in restored.family.evaluators(restored.config):
        if name in FAMILY_EVALUATORS:
            say(f"the {name} evaluator ({restored.config.family} family)")
            scores.update(FAMILY_EVALUATORS[name](restored))
    return scores


def evaluate_checkpoint(
    workdir: pathlib.Path,
    step: int | None = None,
    *,
    writer: summary.Writer | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Scores checkpoint `step` (the latest by default) and publishes the record.

    `options` are score_generator's: num_samples, batch_size, num_real, real_stats,
    truncation. `writer` defaults to a fresh EvalWriter, opened only once the record exists.
    """
    record = _score_checkpoint(workdir, step, options)
    own_writer = writer is None
    writer = EvalWriter(workdir) if own_writer else writer
    try:
        publish(workdir, record, writer, options.get("truncation"))
    finally:
        if own_writer:
            writer.close()
    return record


# -- Watching a training run ------------------------------------------------------------------


def _expected_steps(config: ml_collections.ConfigDict) -> set[int]:
    every, final = config.checkpoint_every_steps, config.num_train_steps
    return set(range(every, final + 1, every)) | {final}


def watch(
    workdir: pathlib.Path,
    *,
    poll_seconds: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
    **options: Any,
) -> Iterator[dict[str, Any]]:
    """Scores each new checkpoint of a run, oldest first, yielding its record; returns once
    the final step (`num_train_steps`) has a metrics file.

    Steps that already have a metrics file are skipped. Checkpoints that training deleted
    (keep_checkpoints) before they could be scored are named on stderr.
    """
    workdir = pathlib.Path(workdir)
    workdir_lib.read_config(workdir)  # refuse a non-workdir at once
    say(f"watching {checkpoints.directory(workdir)} every {poll_seconds:g} s (Ctrl-C to stop)")
    seen: set[int] = set()
    missed: set[int] = set()
    floor: int | None = None
    writer = None
    try:
        while True:
            # Re-read each time: a resumed run may have raised num_train_steps.
            config = workdir_lib.read_config(workdir)
            listed = checkpoints.existing_steps(workdir)
            if floor is None:
                floor = listed[0] if listed else 0
            seen.update(listed)
            done = scored_steps(workdir)
            newest = listed[-1] if listed else 0
            expected = {s for s in _expected_steps(config) if floor <= s < newest}
            for gone in sorted((seen | expected) - set(listed) - done - missed):
                say(
                    f"checkpoint {gone} was deleted (keep_checkpoints="
                    f"{config.keep_checkpoints}) before it could be scored"
                )
                missed.add(gone)
            pending = [s for s in listed if s not in done and s not in missed]
            if not pending:
                if config.num_train_steps in done:
                    return
                sleep(poll_seconds)
                continue
            try:
                record = _score_checkpoint(workdir, pending[0], options)
            except UserError:
                if pending[0] in checkpoints.existing_steps(workdir):
                    raise
                continue  # deleted while being restored: reported on the next pass
            writer = writer or EvalWriter(workdir)
            publish(workdir, record, writer)
            yield record
    finally:
        if writer is not None:
            writer.close()


# -- FID during training ----------------------------------------------------------------------


def training_batch_size(mesh: Mesh, num_samples: int) -> int:
    """DEFAULT_BATCH_SIZE, or fewer when fewer samples are asked for, rounded to a multiple of
    the devices: the training config's own batch may be far too large for Inception."""
    devices = mesh.devices.size
    wanted = min(DEFAULT_BATCH_SIZE, num_samples)
    return max(devices, wanted - wanted % devices)


def evaluate_during_training(
    config: ml_collections.ConfigDict,
    workdir: pathlib.Path,
    state: TrainState,
    writer: summary.Writer,
    net: NetState | None = None,
) -> dict[str, Any]:
    """Scores the training state's generator with `config.fid_num_samples` samples (against
    `config.fid_num_real` real images, 0 meaning all) and publishes the record. `net`:
    the generator's sampling variables when the caller has them (generator_net), so
    standing statistics are not estimated twice for one checkpoint."""
    mesh = sharding.data_mesh()
    step = int(jax.device_get(state.step))
    family, nets = train_state.resolve(config)
    restored = generate.Restored(config, step, family, nets, state)
    if net is not None:
        restored.__dict__["net"] = net  # Restored.net is a cached_property: seeded here
    record = score_generator(
        config,
        nets[family.GENERATOR],
        restored.net,
        step,
        num_samples=config.fid_num_samples,
        batch_size=training_batch_size(mesh, config.fid_num_samples),
        num_real=config.fid_num_real or None,
        mesh=mesh,
    )
    record.update(family_scores(restored))
    if jax.process_index() == 0:
        publish(workdir, record, writer)
    if mode_evaluation.benchmark(config) is not None:  # stacked_mnist: modes, not FID
        scores = ", ".join(f"{name} {record[name]}" for name in ("modes", "kl"))
    else:
        scores = "FID " + ("null" if record["fid"] is None else f"{record['fid']:.3f}")
    writer.console(f"step {step}: {scores} ({record['num_samples']} samples)")
    return record


# -- Two image sets ---------------------------------------------------------------------------


def dataset_reference(real: str) -> str | None:
    """`real` when it names a dataset split ('mnist:test', 'fashion_mnist'), not a path."""
    if pathlib.Path(real).expanduser().exists():
        return None
    return real if real.partition(":")[0] in datasets.available() else None


def compare(real: str, fake: str, *, batch_size: int = DEFAULT_BATCH_SIZE) -> dict[str, Any]:
    """The metrics record of image set `fake` against `real`: an image set, mu/sigma, or
    a dataset split (as config.fid_reference names one: its cached reference features)."""
    fake_set = image_sets.open_images(fake, "--fake")
    if dataset_reference(real) is not None:
        return _compare_with_dataset(real, fake_set, batch_size)
    real_set = image_sets.open_real(real)
    image_sets.check_same_size(real_set, fake_set)
    real_is_images = isinstance(real_set, image_sets.ImageSet)
    # Small sets need no padding up to a full batch: every batch is then one set's size.
    batch_size = min(batch_size, max(fake_set.count, real_set.count if real_is_images else 0))
    features = inception_features(batch_size)
    meter = featurize.Meter(fake_set.count + (real_set.count if real_is_images else 0))
    try:
        fake_features = featurize.features_of(
            fake_set.read(batch_size), fake_set.count, features, batch_size, meter
        )
        real_features = None
        if real_is_images:
            real_features = featurize.features_of(
                real_set.read(batch_size), real_set.count, features, batch_size, meter
            )
    finally:
        meter.close()
    height, width, channels = (int(n) for n in fake_set.shape)
    protocol = {
        "dataset": None,
        "split": None,
        "real": real_set.describe() if real_is_images else f"statistics (mu, sigma) in {real}",
        "fake": fake_set.describe(),
        "image_size": [height, width],
        "num_channels": channels,
        "resize": INCEPTION_RESIZE + "; no other resizing",
        "sampling": None,
        "latents": None,
        "jaxgan_version": jaxgan.__version__,
        "notes": [],
    }
    if fake_set.labels is not None:
        protocol["notes"].append(
            "--fake's labels are not scored: the classification accuracy of samples needs "
            f"--real to name a split of {list(_CLASSIFIED)}"
        )
    stats = None if real_is_images else real_set
    return scoring.record(None, fake_features, real_features, stats, protocol)


def _compare_with_dataset(
    spec: str, fake_set: image_sets.ImageSet, batch_size: int
) -> dict[str, Any]:
    """`fake_set` against every image of the split `spec`, through the reference a run with
    config.fid_reference = spec and the set's image size uses (the same cache): the
    protocol of `evaluate --workdir` for images generated elsewhere."""
    height, width, channels = (int(n) for n in fake_set.shape)
    if height != width:
        raise UserError(
            f"--fake holds {height}x{width} images and a dataset reference is square: make "
            "them square, or give --real a folder or .npz of real images of that size"
        )
    classified = _classified_dataset(spec, fake_set)
    config = config_defaults.base_config()
    config.dataset, config.image_size, config.num_channels = spec, height, channels
    features = inception_features(batch_size)
    real = real_side(config, None, None)
    to_compute = 0 if real.images is None else len(real.images)
    meter = featurize.Meter(fake_set.count + to_compute)
    try:
        fake_features = featurize.features_of(
            fake_set.read(batch_size), fake_set.count, features, batch_size, meter
        )
        real_features = _features_of(real, features, batch_size, meter)
    finally:
        meter.close()
    protocol = {
        **real.protocol,
        "fake": fake_set.describe(),
        "image_size": [height, width],
        "num_channels": channels,
        "resize": "real images: PIL bicubic to image_size, as training sees them; all images: "
        + INCEPTION_RESIZE,
        "sampling": None,
        "latents": None,
        "jaxgan_version": jaxgan.__version__,
        "notes": list(real.protocol["notes"]),
    }
    record = scoring.record(None, fake_features, real_features, None, protocol)
    if classified is not None:
        dataset, classifier = classified
        images = fake_set.read(batch_size)
        record.update(class_accuracy.of_image_set(images, fake_set.labels, dataset, classifier))
    elif fake_set.labels is not None:
        record["protocol"]["notes"].append(
            f"--fake's labels are not scored: jaxgan has sample classifiers for "
            f"{list(_CLASSIFIED)}, not {spec}"
        )
    return record


# The datasets whose samples jaxgan can classify (mnist_classifier has a CNN for each).
_CLASSIFIED = tuple(name for name in class_accuracy.DATASETS if name in datasets.available())


def _classified_dataset(spec: str, fake_set: image_sets.ImageSet) -> tuple[str, Any] | None:
    """(dataset, its classifier) to score a labelled --fake (a conditional run's samples)
    by, when jaxgan has one: the classifier is loaded (trained on first use, ~2 minutes)
    and the labels checked before any Inception work, which a failure would waste."""
    dataset = spec.partition(":")[0]
    if fake_set.labels is None or dataset not in _CLASSIFIED:
        return None
    classes = class_accuracy.mnist_classifier.NUM_CLASSES
    if fake_set.labels.max() >= classes:
        raise UserError(
            f"--fake {fake_set.path}: `labels` go up to {fake_set.labels.max()}; {dataset} "
            f"has {classes} classes (0-{classes - 1})"
        )
    return dataset, class_accuracy.mnist_classifier.load_or_train(dataset)


# -- The floor of a protocol ------------------------------------------------------------------


def floor(
    workdir: pathlib.Path,
    *,
    num_samples: int = 10_000,
    batch_size: int = DEFAULT_BATCH_SIZE,
    num_real: int | None = None,
) -> dict[str, Any]:
    """The FID of `num_samples` real training images (a fixed random subset of the
    training set) against the run's reference (config.fid_reference): what a perfect
    generator would score under the run's protocol. Written to WORKDIR/eval/floor.json."""
    config = workdir_lib.read_config(workdir)
    if not config.get("fid_reference"):
        raise UserError(
            "the floor compares training images with a held-out reference: the run's "
            "config.fid_reference is empty (its reference is the training set itself); "
            "give the run a held-out split, e.g. --config.fid_reference=mnist:test"
        )
    features = inception_features(batch_size)
    held_out = real_side(config, num_real, None)
    training = ml_collections.ConfigDict(config.to_dict())
    training.fid_reference = ""
    train = real_side(training, num_samples, None)
    to_compute = sum(len(side.images) for side in (held_out, train) if side.images is not None)
    say(f"FID floor: {train.protocol['real']} against {held_out.protocol['real']}")
    meter = featurize.Meter(to_compute)
    try:
        train_features = _features_of(train, features, batch_size, meter)
        reference_features = _features_of(held_out, features, batch_size, meter)
    finally:
        meter.close()
    protocol = {
        **held_out.protocol,
        "fake": f"real training images: {train.protocol['real']} (the floor)",
        "jaxgan_version": jaxgan.__version__,
        "notes": [],
    }
    record = scoring.record(None, train_features, reference_features, None, protocol)
    files.write_json(pathlib.Path(workdir) / "eval" / "floor.json", record)
    return record
