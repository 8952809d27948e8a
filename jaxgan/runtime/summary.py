"""Console and TensorBoard logging for the trainer.

TensorBoard files are written with tensorboardX, which needs no TensorFlow (clu's
metric writers import it, and the training path must not).
"""

import pathlib
import sys
import time

import numpy as np


def _import_summary_writer():
    # tensorboardX imports torch whenever it is installed, only to accept torch tensors,
    # which jaxgan never passes: that costs ~2 s per start and puts two runtimes' thread
    # pools in one process. An entry of None makes `import torch` fail, which it handles.
    hidden = "torch" not in sys.modules
    if hidden:
        sys.modules["torch"] = None
    try:
        from tensorboardX import SummaryWriter
    finally:
        if hidden:
            del sys.modules["torch"]
    return SummaryWriter


SummaryWriter = _import_summary_writer()


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


class Progress:
    """Steps/s, images/s and ETA measured between log steps."""

    def __init__(self, start_step: int, total_steps: int, images_per_step: int):
        self.total_steps = total_steps
        self.images_per_step = images_per_step
        self.last_step, self.last_time = start_step, time.perf_counter()

    def restart(self, step: int) -> float:
        """Starts measuring afresh from `step` (after compilation); returns seconds since
        the last measurement."""
        now = time.perf_counter()
        elapsed, self.last_step, self.last_time = now - self.last_time, step, now
        return elapsed

    def update(self, step: int) -> dict[str, float]:
        """Speeds since the last update; NaN when no step was timed since (the step that
        compiled is not timed)."""
        now = time.perf_counter()
        steps = step - self.last_step
        steps_per_s = steps / max(now - self.last_time, 1e-9) if steps else float("nan")
        self.last_step, self.last_time = step, now
        return {
            "steps_per_s": steps_per_s,
            "images_per_s": steps_per_s * self.images_per_step,
            "eta_s": (self.total_steps - step) / max(steps_per_s, 1e-9),
        }


class Writer:
    """Writes scalars and images to TensorBoard (and to Weights & Biases when given a
    `wandb_log.Run`) and a one-line summary to the console."""

    def __init__(self, logdir: pathlib.Path, enabled: bool = True, wandb_run=None):
        self.enabled = enabled
        self.tensorboard = SummaryWriter(str(logdir)) if enabled else None
        self.wandb = wandb_run if enabled else None

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        for name, value in values.items():
            self.tensorboard.add_scalar(name, float(value), step)
        self.tensorboard.flush()
        if self.wandb is not None:
            self.wandb.scalars(step, values)

    def image(self, step: int, name: str, image: np.ndarray) -> None:
        """uint8 (H, W, C)."""
        if self.enabled:
            self.tensorboard.add_image(name, image, step, dataformats="HWC")
            self.tensorboard.flush()
            if self.wandb is not None:
                self.wandb.image(step, name, image)

    def console(self, line: str) -> None:
        if self.enabled:
            print(line, file=sys.stderr, flush=True)

    def close(self, failed: bool = False) -> None:
        if self.enabled:
            self.tensorboard.close()
            if self.wandb is not None:
                self.wandb.close(failed)


def train_line(
    step: int,
    total: int,
    metrics: dict[str, float],
    speed: dict[str, float],
    critic: bool = False,
) -> str:
    """The console's progress line. critic: D is a Wasserstein critic, whose mean scores
    (`d_real_logit`, `d_fake_logit`) are shown as critic_real / critic_fake instead of the
    sigmoid of them (d_real, d_fake: probabilities only for a classifier D; a critic's
    scores drift to large magnitudes, where the sigmoid reads 0 or 1 and says nothing)."""
    names = ["d_loss", "g_loss", "d_real", "d_fake", "lod"]
    shown = {name: name for name in names}
    if critic and {"d_real_logit", "d_fake_logit"} <= metrics.keys():
        shown.update(d_real="critic_real", d_fake="critic_fake")
        metrics = {**metrics, "d_real": metrics["d_real_logit"], "d_fake": metrics["d_fake_logit"]}
    losses = " ".join(f"{shown[name]} {metrics[name]:.4f}" for name in names if name in metrics)
    if np.isfinite(speed["steps_per_s"]):
        rate = f"{speed['steps_per_s']:.2f} steps/s {speed['images_per_s']:.0f} img/s"
        eta = format_duration(speed["eta_s"])
    else:
        rate, eta = "-- steps/s", "--"
    return (
        f"step {step}/{total} ({100 * step / max(total, 1):.1f}%) | {losses} | {rate} | ETA {eta}"
    )
