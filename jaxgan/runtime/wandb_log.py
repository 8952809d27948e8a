"""Weights & Biases, optional: the scalars and sample grids TensorBoard gets, also logged
to a W&B run when config.wandb_project is set (`pip install -e ".[wandb]"`).

The W&B run's id is kept in WORKDIR/wandb_run_id, so a resumed jaxgan run continues the
same W&B run (its steps carry on) instead of starting another. Its local files go to
WORKDIR/wandb/. `WANDB_MODE=offline` logs without an account or network: each process
then writes its own `WORKDIR/wandb/offline-run-<time>-<id>/` of the same run id, to be
uploaded with `wandb sync`, oldest first (W&B's offline mode does not append a resumed
run's history by itself: see wandb's documentation on syncing resumed offline runs).
"""

import pathlib
import secrets
import string

import ml_collections
import numpy as np

from jaxgan.runtime.errors import UserError

RUN_ID_FILE = "wandb_run_id"


def check_installed(config: ml_collections.ConfigDict) -> None:
    """Refuses config.wandb_project without the wandb package, before anything is written."""
    if not config.get("wandb_project"):
        return
    try:
        import wandb  # noqa: F401
    except ImportError as error:
        raise UserError(
            f"config.wandb_project={config.wandb_project!r} needs the package wandb: "
            "pip install -e '.[wandb]' (or pip install wandb), or leave wandb_project empty"
        ) from error


class Run:
    """A W&B run for a workdir: scalars and images at a step."""

    def __init__(self, config: ml_collections.ConfigDict, workdir: pathlib.Path):
        import wandb

        from jaxgan.runtime import files

        workdir = pathlib.Path(workdir)
        id_file = workdir / RUN_ID_FILE
        if id_file.exists():
            run_id = id_file.read_text().strip()
        else:
            # W&B's own ids look like this: 8 lowercase letters and digits.
            run_id = "".join(
                secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8)
            )
            files.write_text(id_file, run_id + "\n")
        (workdir / "wandb").mkdir(exist_ok=True)
        self._wandb = wandb
        try:
            self._run = wandb.init(
                project=config.wandb_project,
                entity=config.get("wandb_entity") or None,
                name=workdir.name,
                id=run_id,
                resume="allow",
                dir=str(workdir),
                config=config.to_dict(),
            )
        except Exception as error:  # wandb's own errors (no login, no network) vary by version
            raise UserError(
                f"Weights & Biases could not start a run ({type(error).__name__}: {error}): "
                "run `wandb login`, or set WANDB_MODE=offline to log locally"
            ) from error

    def scalars(self, step: int, values: dict[str, float]) -> None:
        self._run.log({name: float(value) for name, value in values.items()}, step=step)

    def image(self, step: int, name: str, image: np.ndarray) -> None:
        """uint8 (H, W, C)."""
        pixels = image[..., 0] if image.shape[-1] == 1 else image
        self._run.log({name: self._wandb.Image(pixels)}, step=step)

    def close(self, failed: bool = False) -> None:
        """Ends the run; `failed` (training raised, or was interrupted) marks it so in W&B.
        A resumed run logs again the steps after its last checkpoint, which W&B already
        has from the interrupted process: it keeps the first values (the same, training
        being deterministic) and warns."""
        self._run.finish(exit_code=1 if failed else 0)
