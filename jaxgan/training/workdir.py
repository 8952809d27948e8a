"""The workdir: where a run keeps everything it writes.

  config.json        the resolved config, jaxgan's version, the git commit when there
                     is one, and the versions of JAX, Flax, optax and Orbax
  checkpoints/<N>/   Orbax checkpoints (see checkpoints.py)
  samples/step_<N>.png  a grid of samples from a fixed latent batch, at every checkpoint
  tensorboard/       TensorBoard event files
  eval/              metrics written by the evaluation binary
  wandb/, wandb_run_id  Weights & Biases' local files and run id (config.wandb_project)
  superseded-<time>/ what a run of another config that saved no checkpoint left

Starting again with the same workdir resumes it; a requested config that differs from
the stored one in anything but the fields in RESUMABLE_FIELDS is refused before any
file is touched, unless the stored run saved no checkpoint (it diverged or was stopped
early): then its files are moved aside and the new run starts.
"""

import datetime
import importlib.metadata
import json
import os
import pathlib
import subprocess

import ml_collections

import jaxgan
from jaxgan.runtime import files
from jaxgan.runtime.errors import UserError
from jaxgan.training import checkpoints, schedules

CONFIG_FILE = "config.json"
SUBDIRS = ("checkpoints", "samples", "tensorboard", "eval")
# What a superseded run also leaves, made only when it logs to Weights & Biases: moved
# aside too, so the new run starts a W&B run of its own.
OPTIONAL_RECORDS = ("wandb", "wandb_run_id")

# Fields that change how long or how verbosely a run goes, not what it computes.
RESUMABLE_FIELDS = frozenset(
    {
        "num_train_steps",
        "log_every_steps",
        "checkpoint_every_steps",
        "keep_checkpoints",
        "prefetch_batches",
        "steps_per_dispatch",
        "num_samples",
        "sample_with_running_stats",
        "standing_stats_batches",
        "sample_with_ema",
        "fid_every_steps",
        "fid_num_samples",
        "fid_num_real",
        "fid_reference",
        "wandb_project",
        "wandb_entity",
    }
)


# Fields added after workdirs were first written, with the values that reproduce the runs
# of workdirs that lack them: such a workdir reads as a run with the feature off.
FIELDS_OFF_WHEN_ABSENT = {
    "conditional": False,
    "num_classes": 0,
    "conditional_form": "concat",
    "label_embedding_dim": 32,
    "diffaugment": "",
    "steps_per_dispatch": 1,
    "data_dim": 0,
    "pack": 1,
    "mlp_d_maxout": True,
    "mlp_g_depth": 2,
    "mlp_d_depth": 2,
    "mlp_g_batch_norm": False,
    "mlp_maxout_pieces": 5,
    "mlp_init_std": 0.0,
    "mlp_orthogonal_gain": 0.0,
    "mlp_activation": "relu",
    "simultaneous_updates": False,
    "fid_reference": "",
    "unrolled_objective": "g_loss",
    "unrolled_second_order": True,
    "wandb_project": "",
    "wandb_entity": "",
    "lr_schedule": "constant",
    "lr_warmup_steps": 0,
    "g_lr_schedule": "",
    "d_lr_schedule": "",
    "g_lr_warmup_steps": -1,
    "d_lr_warmup_steps": -1,
    "init_from": "",
    "init_optimizer": False,
    "freeze_d_layers": 0,
    "g_orthogonal_reg": 0.0,
    "attention_resolution": 0,
    "ema_start": 0,
    "ema_collections": False,
    "resnet_init": "default",
    "d_joint_pass": False,
    "biggan_shared_dim": 0,
    "biggan_hierarchical": False,
    "standing_stats_batches": 0,
    # The cyclegan family's (no earlier workdir is of that family): their defaults.
    "cyclegan_blocks": 9,
    "cyclegan_lambda_a": 10.0,
    "cyclegan_lambda_b": 10.0,
    "cyclegan_lambda_identity": 0.5,
    "cyclegan_pool_size": 50,
    "translation_epochs": 100,
    "translation_decay_epochs": 100,
    "translation_epoch_steps": 0,
    "translation_load_size": 0,
    "pix2pix_lambda_l1": 100.0,
    "pix2pix_downs": 8,
    "pix2pix_direction": "AtoB",
    "srgan_stage": "mse",
    "srgan_scale": 4,
    "srgan_blocks": 16,
    "srgan_content": "mse",
    "srgan_adversarial_weight": 1e-3,
    "translation_flip": True,
    # The ssgan family's (no earlier workdir is of that family): their defaults.
    "rotation_weight_d": 1.0,
    "rotation_weight_g": 0.2,
    "rotated_batch_size": 0,
}


def read_config(workdir: pathlib.Path) -> ml_collections.ConfigDict:
    """The config stored in a workdir's config.json (with FIELDS_OFF_WHEN_ABSENT filled
    in where it lacks them)."""
    path = pathlib.Path(workdir) / CONFIG_FILE
    try:
        record = json.loads(path.read_text())
        return ml_collections.ConfigDict({**FIELDS_OFF_WHEN_ABSENT, **record["config"]})
    except FileNotFoundError as error:
        raise UserError(f"{path} does not exist: is {workdir} a jaxgan workdir?") from error
    except (ValueError, KeyError, TypeError) as error:  # ValueError: bad JSON, or a value
        # ConfigDict refuses (a dict with a dotted key)
        raise UserError(f"{path} is not a jaxgan config record ({error})") from error


def written_by(workdir: pathlib.Path) -> str:
    """The jaxgan version recorded in a workdir's config.json ("unknown" if none)."""
    try:
        return str(json.loads((pathlib.Path(workdir) / CONFIG_FILE).read_text())["jaxgan_version"])
    except (OSError, ValueError, KeyError, TypeError):
        return "unknown"


def check_version(workdir: pathlib.Path) -> None:
    """Refuses a workdir whose checkpoints a jaxgan of another major.minor version wrote:
    their state layout differs (0.2 keeps every net under `nets`)."""
    written = written_by(workdir)
    if written.split(".")[:2] != jaxgan.__version__.split(".")[:2]:
        raise UserError(
            f"{workdir} was written by jaxgan {written}; this is jaxgan {jaxgan.__version__}, "
            "whose checkpoints hold the state in another layout: train, sample and evaluate "
            f"it with jaxgan {written} (a checkout of that version), or start a new --workdir"
        )


# Fields whose 0 means "from the dataset", which training resolves and stores.
RESOLVED_FROM_DATA = ("num_classes", "translation_epoch_steps")


def config_differences(stored: dict, requested: dict) -> list[str]:
    lines = []
    # A decaying schedule is a function of num_train_steps: changing it mid-run would
    # make the rate jump, so then it is no longer a field a resume may change.
    decays = schedules.decays(stored)
    for field in sorted(set(stored) | set(requested)):
        if field in RESUMABLE_FIELDS and not (decays and field == "num_train_steps"):
            continue
        old, new = stored.get(field, "<absent>"), requested.get(field, "<absent>")
        if field in RESOLVED_FROM_DATA and new == 0:
            continue  # 0 asks for the dataset's number, which the stored run resolved
        if old != new:
            lines.append(f"{field}: workdir has {old!r}, requested {new!r}")
    return lines


def check(workdir: pathlib.Path, config: ml_collections.ConfigDict) -> None:
    """Refuses a workdir that cannot hold this run; reads only, writes nothing."""
    workdir = pathlib.Path(workdir)
    if workdir.exists() and not workdir.is_dir():
        raise UserError(f"--workdir {workdir} is a file, not a directory: choose another path")
    existing = workdir if workdir.exists() else next(p for p in workdir.parents if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"--workdir {workdir}: {existing} is not writable")
    config_path = workdir / CONFIG_FILE
    if config_path.exists():
        if checkpoints.existing_steps(workdir):
            check_version(workdir)
        stored = read_config(workdir).to_dict()
        differences = config_differences(stored, config.to_dict())
        # A run that saved no checkpoint (it diverged or was killed early) holds nothing a
        # new config could spoil: `create` keeps its record aside and starts afresh.
        if differences and checkpoints.existing_steps(workdir):
            raise UserError(
                f"{workdir} holds a run of another config ({'; '.join(differences)}): "
                "use a new --workdir, or the workdir's own config"
            )
    elif checkpoints.existing_steps(workdir):
        raise UserError(
            f"{workdir} has checkpoints but no {CONFIG_FILE}: it was not written by this "
            "jaxgan run; use a new --workdir"
        )


def git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=pathlib.Path(jaxgan.__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def versions() -> dict[str, str]:
    found = {}
    for package in ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def _move_aside(workdir: pathlib.Path) -> pathlib.Path:
    """Moves what the run recorded in config.json left (all but checkpoints/) into
    superseded-<when it was written>/, a new folder, and returns it."""
    written = json.loads((workdir / CONFIG_FILE).read_text()).get("written", "earlier")
    stamp = str(written).replace(":", "")
    kept = workdir / f"superseded-{stamp}"
    for n in range(2, 1000):  # never into an earlier one
        if not kept.exists():
            break
        kept = workdir / f"superseded-{stamp}-{n}"
    kept.mkdir()
    for name in (CONFIG_FILE, *SUBDIRS, *OPTIONAL_RECORDS):
        if name != "checkpoints" and (workdir / name).exists():
            (workdir / name).rename(kept / name)
    return kept


def create(workdir: pathlib.Path, config: ml_collections.ConfigDict) -> pathlib.Path | None:
    """Makes the layout and writes config.json (atomically); call after `check`. What an
    earlier run of another config that saved no checkpoint left (config.json, samples,
    TensorBoard logs, evaluations) is moved into superseded-<when it was written>/, never
    deleted or mixed with this run's: that folder is returned (else None)."""
    workdir = pathlib.Path(workdir)
    config_path = workdir / CONFIG_FILE
    kept = None
    # Compared as `check` compares (read_config fills in fields older records lack), so
    # a record of this very config is never moved aside.
    if config_path.exists():
        if config_differences(read_config(workdir).to_dict(), config.to_dict()):
            kept = _move_aside(workdir)
    for name in SUBDIRS:
        (workdir / name).mkdir(parents=True, exist_ok=True)
    record = {
        "config": config.to_dict(),
        "jaxgan_version": jaxgan.__version__,
        "git_commit": git_commit(),
        "versions": versions(),
        "written": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    files.write_text(config_path, json.dumps(record, indent=2, sort_keys=True) + "\n")
    return kept
