"""Writes a bigan-family run's encoder features of a dataset split:

  python -m jaxgan.encode --workdir=runs/bigan --split=test --out=features.npz

The .npz holds float32 `features` (N, latent_dim): E's output in test mode (the
Gaussian encoder's mean; the pre-sigmoid output for a uniform prior, the features
BiGAN's 1-NN accuracy uses) and, when the split has them, int32 `labels` (N,).
`--split` is the dataset argument (`train`, `test`, ...) of the run's own dataset.
An existing --out is refused unless --overwrite.
"""

import pathlib

from absl import app, flags, logging

from jaxgan.cpu import host_memory
from jaxgan.data import datasets
from jaxgan.metrics import bigan as bigan_evaluation
from jaxgan.runtime import cli, files
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import export
from jaxgan.sampling import restore as generate

_WORKDIR = flags.DEFINE_string("workdir", None, "Directory of a trained bigan run.", required=True)
_OUT = flags.DEFINE_string("out", None, "Output .npz file.", required=True)
_SPLIT = flags.DEFINE_string("split", "test", "Split of the run's dataset to encode.")
_STEP = flags.DEFINE_integer("step", None, "Checkpoint step (default: latest).")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Write over an existing --out.")


def encode(workdir: str, out: pathlib.Path, split: str, step: int | None, overwrite: bool):
    if out.suffix != ".npz":
        raise UserError(f"--out must name an .npz file, got {out}")
    export.check_free(out, "npz", overwrite)
    restored = generate.restore(pathlib.Path(workdir), step)
    if "e" not in restored.nets:
        raise UserError(
            f"{workdir} is a run of the {restored.config.family} family, which has no "
            "encoder: jaxgan.encode is for the bigan family"
        )
    config = restored.config.copy_and_resolve_references()
    config.dataset = f"{config.dataset.split(':')[0]}:{split}"
    dataset = datasets.load(config)
    nets = bigan_evaluation.nets_of(restored)
    features = bigan_evaluation.encode_all(nets, dataset.images, restored.config)
    arrays = {"features": features}
    if dataset.labels is not None:
        arrays["labels"] = dataset.labels
    out.parent.mkdir(parents=True, exist_ok=True)
    files.save_npz(out, **arrays)
    print(f"{out}: features {features.shape} of {config.dataset}, step {restored.step}")


def main(argv: list[str]) -> None:
    host_memory.keep_freed_memory()
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    logging.set_verbosity(logging.ERROR)
    with cli.user_errors():
        encode(
            _WORKDIR.value, pathlib.Path(_OUT.value), _SPLIT.value, _STEP.value, _OVERWRITE.value
        )


if __name__ == "__main__":
    app.run(main, flags_parser=cli.parse_flags)
