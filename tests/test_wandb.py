"""Weights & Biases logging (config.wandb_project), offline: the scalars and sample grids
TensorBoard gets, in one W&B run that a resumed training continues."""

import struct
import sys

import numpy as np
import pytest

from jaxgan.runtime.errors import UserError
from jaxgan.training import loop as train
from tests.conftest import tiny


def wandb_records(path):
    """The records of a .wandb file: W&B's LevelDB-style log (a 7-byte file header, then
    32 KiB blocks of chunks, each with a 7-byte header: crc32c, length, kind)."""
    from wandb.proto import wandb_internal_pb2

    data, position, pending = path.read_bytes(), 7, b""
    while position + 7 <= len(data):
        left = 32768 - position % 32768
        if left < 7:  # a block's tail too short for a header is padding
            position += left
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        chunk = data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):  # a whole record, or the last chunk of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending + chunk)
            pending = b""
            yield record
        elif kind in (2, 3):  # its first or a middle chunk
            pending += chunk


def logged_history(run_dir):
    """{step: {key: json value}} of every history record in an offline run's folder."""
    history = {}
    for path in run_dir.glob("run-*.wandb"):
        for record in wandb_records(path):
            if record.WhichOneof("record_type") == "history":
                items = {
                    item.key or "/".join(item.nested_key): item.value_json
                    for item in record.history.item
                }
                history.setdefault(record.history.step.num, {}).update(items)
    return history


@pytest.fixture
def data(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (32, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "data.npz", images=pixels)
    return f"npz:{tmp_path / 'data.npz'}"


def test_an_offline_wandb_run_gets_the_scalars_and_grids_and_a_resume_continues_it(
    tmp_path, data, monkeypatch
):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    config = tiny(
        num_train_steps=2,
        log_every_steps=1,
        checkpoint_every_steps=2,
        dataset=data,
        wandb_project="jaxgan-test",
    )
    workdir = tmp_path / "run"
    train.train_and_evaluate(config, workdir)
    run_id = (workdir / "wandb_run_id").read_text().strip()
    config.num_train_steps = 4
    train.train_and_evaluate(config, workdir)  # resumes at step 2
    assert (workdir / "wandb_run_id").read_text().strip() == run_id
    sessions = sorted((workdir / "wandb").glob(f"offline-run-*-{run_id}"))
    assert len(sessions) == 2  # one per process, both of the one W&B run
    history = {}
    for session in sessions:
        history.update(logged_history(session))
    # Scalars every step, sample grids with every checkpoint (steps 2 and 4).
    assert sorted(history) == [1, 2, 3, 4]
    for step in (1, 2, 3, 4):
        for name in ("d_loss", "g_loss", "d_real", "d_fake"):
            assert np.isfinite(float(history[step][name])), (step, name)
    # Speed is measured from the second step of each process (the first one compiles).
    assert [step for step in history if "steps_per_s" in history[step]] == [2, 4]
    for step in (2, 4):
        # The 16 samples as a 4x4 grid of 28-px images with 2-px gaps.
        assert history[step]["samples/_type"] == '"image-file"'
        assert (history[step]["samples/width"], history[step]["samples/height"]) == ("122", "122")
    assert "samples/_type" not in history[1]


def test_wandb_project_without_the_package_is_refused_before_anything_is_written(
    tmp_path, data, monkeypatch
):
    monkeypatch.setitem(sys.modules, "wandb", None)  # import raises ImportError
    config = tiny(dataset=data, wandb_project="mine")
    with pytest.raises(UserError, match="needs the package wandb: pip install -e '.\\[wandb\\]'"):
        train.train_and_evaluate(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()
