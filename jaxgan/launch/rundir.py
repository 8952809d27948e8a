"""What a run's workdir says about it: trained, evaluated, its final metrics, its error.

Besides the trainer's layout (jaxgan/training/workdir.py), the launcher keeps two logs in each
run's workdir: `train.log` (the trainer's console) and `eval.log` (the evaluation
binary's). Each attempt appends to them after a line starting with ATTEMPT_MARKER, so a
run's error is looked for in its last attempt only.
"""

import json
import pathlib

from jaxgan.launch import events
from jaxgan.launch.plan import Run
from jaxgan.training import checkpoints

TRAIN_LOG = "train.log"
EVAL_LOG = "eval.log"
ATTEMPT_MARKER = "=== jaxgan.launch.sweep"

# Final training scalars reported when there is no evaluation: the ones the trainer's
# console line shows. Speed and gradient norms say nothing about the result.
LOSS_METRICS = ("d_loss", "g_loss", "d_real", "d_fake")
# Keys of eval/metrics_<step>.json that are not a score of the run: kid_std is KID's
# spread over subsets of one run (is_std: over splits), not comparable with a spread over
# seeds.
NOT_SCORES = frozenset({"step", "num_samples", "kid_std", "is_std", "protocol"})


def trained(run: Run) -> bool:
    return run.num_train_steps in checkpoints.existing_steps(run.workdir)


def eval_metrics_path(run: Run) -> pathlib.Path:
    return run.workdir / "eval" / f"metrics_{run.num_train_steps}.json"


def eval_metrics(run: Run) -> dict[str, float] | None:
    """The evaluation binary's scores of the final checkpoint, or None if absent."""
    try:
        record = json.loads(eval_metrics_path(run).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return {
        key: float(value)
        for key, value in record.items()
        if key not in NOT_SCORES and isinstance(value, int | float) and not isinstance(value, bool)
    }


def final_losses(run: Run) -> dict[str, float] | None:
    """The scalars of LOSS_METRICS logged at the final step, or None if not logged."""
    scalars = events.last_scalars(run.workdir / "tensorboard")
    found = {
        name: scalars[name][1]
        for name in LOSS_METRICS
        if name in scalars and scalars[name][0] == run.num_train_steps
    }
    return found or None


def final_metrics(run: Run, evaluate: bool) -> dict[str, float] | None:
    """The run's scores when it is complete (trained, and evaluated if `evaluate`)."""
    if not trained(run):
        return None
    return eval_metrics(run) if evaluate else final_losses(run)


def run_fids(run: pathlib.Path) -> dict[int, float]:
    """A run's FID per scored checkpoint step (its eval/metrics_<step>.json)."""
    scores = {}
    for path in (run / "eval").glob("metrics_*.json"):
        record = json.loads(path.read_text())
        if record.get("fid") is not None:
            scores[int(record["step"])] = float(record["fid"])
    return scores


def last_attempt(log: pathlib.Path) -> list[str]:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return []
    starts = [i for i, line in enumerate(lines) if line.startswith(ATTEMPT_MARKER)]
    return lines[starts[-1] + 1 :] if starts else lines


def error_line(log: pathlib.Path) -> str | None:
    """The last `jaxgan: error:` line of the last attempt, else the exception line of its
    last traceback, else None."""
    lines = last_attempt(log)
    errors = [line.strip() for line in lines if line.startswith("jaxgan: error:")]
    if errors:
        return errors[-1]
    tracebacks = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    if not tracebacks:
        return None
    # A traceback's frames and code are indented; its first unindented line is the
    # exception.
    after = lines[tracebacks[-1] + 1 :]
    return next((line.strip() for line in after if line.strip() and not line[0].isspace()), None)


def logged_error(run: Run) -> str | None:
    return error_line(run.workdir / TRAIN_LOG) or error_line(run.workdir / EVAL_LOG)
