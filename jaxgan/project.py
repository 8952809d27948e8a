"""GAN inversion: finds the latent whose generated image best matches a target image.

  python -m jaxgan.project --workdir=runs/dcgan --target=digit.png --out=projection/

Writes into --out: target.png (the target as matched: resized and converted with
--resize), projected.png (G's image of the latent found), latent.npz (`z` (1,
latent_dim), the loss terms of every step and at the end, the run's step and the
settings) and progress.png (the target, then G's image at 8 steps from start to end).

The loss is the pixel error plus --feature_weight times the FID Inception network's
feature distance (its weights as jaxgan.evaluate finds them; --feature_weight=0 needs
none); see jaxgan/sampling/projection.py. On 2 CPU cores a step with the feature loss
took about 1 s (the 299-px network, forward and backward), without it milliseconds.
A target of another size or channel count than the run's images is refused naming
both, unless --resize. An existing non-empty --out is refused unless --overwrite.
"""

import sys

import numpy as np
from absl import app, flags, logging

from jaxgan.cpu import host_memory
from jaxgan.runtime import cli
from jaxgan.sampling import projection, projection_files

_WORKDIR = flags.DEFINE_string("workdir", None, "Directory of a trained run.", required=True)
_TARGET = flags.DEFINE_string("target", None, "The image to match (PNG, JPEG, ...).", required=True)
_OUT = flags.DEFINE_string("out", None, "Folder for the results.", required=True)
_STEP = flags.DEFINE_integer("step", None, "Checkpoint step of the run (default: latest).")
_STEPS = flags.DEFINE_integer("steps", projection.Settings.steps, "Optimisation steps.")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of the starting latents.")
_LABEL = flags.DEFINE_integer("label", None, "Class of the image (conditional runs).")
_RESIZE = flags.DEFINE_bool(
    "resize", False, "Resize (Lanczos) and convert a target of another size or colour mode."
)
_FEATURE_WEIGHT = flags.DEFINE_float(
    "feature_weight", projection.Settings.feature_weight, "Weight of the Inception feature loss."
)
_LEARNING_RATE = flags.DEFINE_float(
    "learning_rate", projection.Settings.learning_rate, "Adam's peak learning rate."
)
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Write into an existing non-empty --out.")


def main(argv):
    host_memory.keep_freed_memory()  # before JAX starts its threads
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    logging.set_verbosity(logging.WARNING)  # Orbax logs every restore at INFO
    with cli.user_errors():
        settings = projection.Settings(
            steps=_STEPS.value,
            feature_weight=_FEATURE_WEIGHT.value,
            learning_rate=_LEARNING_RATE.value,
        )
        out = projection_files.run(
            _WORKDIR.value,
            _TARGET.value,
            _OUT.value,
            step=_STEP.value,
            seed=_SEED.value,
            label=_LABEL.value,
            resize=_RESIZE.value,
            overwrite=_OVERWRITE.value,
            settings=settings,
        )
        final = np.load(out / "latent.npz")
        print(
            f"projected: pixel MSE {float(final['final_pixel']):.5f}, feature distance "
            f"{float(final['final_feature']):.5f}; wrote {out}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
