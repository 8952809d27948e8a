"""Scores a GAN: FID, KID, precision/recall, density/coverage; for the mode-collapse
benchmarks (ring8, grid25, metz_ring, stacked_mnist), their mode metrics instead.

  python -m jaxgan.evaluate --workdir=runs/dcgan [--step=N] [--num_samples=50000]
  python -m jaxgan.evaluate --workdir=runs/dcgan --watch      # beside training
  python -m jaxgan.evaluate --real=PATH --fake=PATH [--out=FILE]
  python -m jaxgan.evaluate --real=mnist:test --fake=PATH     # a dataset split's reference
                            # (+ class accuracy when PATH is an .npz with `labels`)
  python -m jaxgan.evaluate --workdir=runs/lucic-ns --floor [--num_samples=10000]

The metrics record (JSON) is the last line of stdout; progress and ETA go to stderr. A
checkpoint's record is also written to WORKDIR/eval/metrics_<step>.json and TensorBoard.
"""

import json
import pathlib
import sys

from absl import app, flags, logging

from jaxgan.cpu import host_memory
from jaxgan.metrics import evaluation, inception_head, mode_evaluation
from jaxgan.runtime import cli, files
from jaxgan.runtime.errors import UserError

_WORKDIR = flags.DEFINE_string("workdir", None, "Run to score (its checkpoints).")
_STEP = flags.DEFINE_integer("step", None, "Checkpoint step to score; the latest by default.")
_NUM_SAMPLES = flags.DEFINE_integer(
    "num_samples",
    evaluation.STANDARD_NUM_SAMPLES,
    "Generated images. 50k is the papers' protocol; on CPU try 5000 for a quick look. "
    "Mode-collapse benchmarks: 2500 (ring8, grid25, metz_ring) or 26000 (stacked_mnist) "
    "by default.",
    lower_bound=2,
)
_NUM_REAL = flags.DEFINE_integer(
    "num_real",
    None,
    "Real images of the reference (a fixed subset of the training set, or of "
    "config.fid_reference); all by default.",
    lower_bound=2,
)
_BATCH_SIZE = flags.DEFINE_integer(
    "batch_size", evaluation.DEFAULT_BATCH_SIZE, "Images per batch.", lower_bound=1
)
_REAL_STATS = flags.DEFINE_string(
    "real_stats",
    None,
    "Reference mu/sigma .npz (pytorch-fid format) instead of the dataset: FID only.",
)
_WATCH = flags.DEFINE_boolean("watch", False, "Score each new checkpoint until the final step.")
_POLL_SECONDS = flags.DEFINE_float(
    "poll_seconds", 60.0, "With --watch: seconds between looks for checkpoints.", lower_bound=0.0
)
_REAL = flags.DEFINE_string(
    "real",
    None,
    "Real set: image folder, .npz of images, or mu/sigma; or a dataset split as "
    "config.fid_reference names one (e.g. mnist:test): its cached reference features, "
    "the protocol of --workdir for images generated elsewhere.",
)
_FAKE = flags.DEFINE_string("fake", None, "Generated set: image folder or .npz of `images`.")
_OUT = flags.DEFINE_string("out", None, "With --real/--fake: also write the record here.")
_FLOOR = flags.DEFINE_boolean(
    "floor",
    False,
    "With --workdir: score --num_samples real training images (10000 by default) against the "
    "run's held-out reference (config.fid_reference) instead of generated ones: the best "
    "FID that protocol allows. Written to WORKDIR/eval/floor.json.",
)

_TRUNCATION = flags.DEFINE_float(
    "truncation",
    None,
    "With --workdir: latents from N(0, 1) truncated to [-T, T] (BigGAN's truncation trick, "
    "components resampled); for a stylegan2 run, w moved towards w_avg with psi T. The "
    "record goes to eval/metrics_<step>_truncation_<T>.json, beside the step's own.",
)
_IS_WEIGHTS = flags.DEFINE_string(
    "is_weights",
    None,
    "For the Inception Score: pytorch-fid's pt_inception-2015-12-05-6726825d.pth or NVIDIA's "
    "inception-2015-12-05.pt. Checked against the FID network and cached once; every later "
    "evaluation then reports IS without the flag.",
)


def records():
    """The records the flags ask for, each as soon as it is computed."""
    two_sets = _REAL.value is not None or _FAKE.value is not None
    if two_sets == (_WORKDIR.value is not None):
        raise UserError("give either --workdir, or --real and --fake")
    if two_sets:
        if _REAL.value is None or _FAKE.value is None:
            raise UserError("--real and --fake go together")
        for name in ("step", "watch", "num_samples", "num_real", "real_stats", "truncation"):
            if flags.FLAGS[name].present:
                raise UserError(f"--{name} is for --workdir; with --real/--fake it has no use")
        out = _out_path()
        record = evaluation.compare(_REAL.value, _FAKE.value, batch_size=_BATCH_SIZE.value)
        if out is not None:
            files.write_json(out, record)
        yield record
        return
    if _OUT.value is not None:
        raise UserError("--out is for --real/--fake; a checkpoint's record goes to WORKDIR/eval/")
    if _FLOOR.value:
        for name in ("step", "watch", "real_stats", "truncation"):
            if flags.FLAGS[name].present:
                raise UserError(f"--{name} has no use with --floor, which scores real images")
        num = _NUM_SAMPLES.value if flags.FLAGS["num_samples"].present else 10_000
        yield evaluation.floor(
            _WORKDIR.value, num_samples=num, batch_size=_BATCH_SIZE.value, num_real=_NUM_REAL.value
        )
        return
    options = {
        # Not given: the standard count, which the mode-collapse benchmarks set themselves.
        "num_samples": _NUM_SAMPLES.value if flags.FLAGS["num_samples"].present else None,
        "batch_size": _BATCH_SIZE.value,
        "num_real": _NUM_REAL.value,
        "real_stats": _REAL_STATS.value,
        "truncation": _TRUNCATION.value,
    }
    if _WATCH.value and _TRUNCATION.value is not None:
        raise UserError("--watch scores each checkpoint's own record: leave out --truncation")
    if not _WATCH.value:
        yield evaluation.evaluate_checkpoint(_WORKDIR.value, _STEP.value, **options)
    elif _STEP.value is not None:
        raise UserError("--watch scores every new checkpoint: leave out --step")
    else:
        yield from evaluation.watch(_WORKDIR.value, poll_seconds=_POLL_SECONDS.value, **options)


def _out_path() -> pathlib.Path | None:
    if _OUT.value is None:
        return None
    out = pathlib.Path(_OUT.value).expanduser()
    if out.is_dir() or not out.parent.is_dir():
        raise UserError(f"--out {out} must be a file in an existing directory")
    return out


def main(argv: list[str]) -> None:
    host_memory.keep_freed_memory()  # before JAX starts its threads
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    # Orbax logs read-only restores at WARNING through absl; stderr is for our progress.
    logging.set_verbosity(logging.ERROR)
    with cli.user_errors():
        if _IS_WEIGHTS.value is not None:
            cached = inception_head.convert(_IS_WEIGHTS.value)
            print(f"jaxgan: Inception Score weights checked, cached in {cached}", file=sys.stderr)
        for record in records():
            if "modes" in record:  # the mode-collapse benchmarks: a line for people too
                print(mode_evaluation.summary(record), file=sys.stderr, flush=True)
            print(json.dumps(record, allow_nan=False), flush=True)


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
