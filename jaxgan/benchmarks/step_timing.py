"""Timing the real train step of a config on synthetic data already on the devices: the
library side of `python -m jaxgan.bench` (flag-free, so tests and other tools import it)."""

import contextlib
import os
import statistics
import sys
import time

import jax
import ml_collections
import numpy as np

from jaxgan import families
from jaxgan.benchmarks import op_profile
from jaxgan.config import validation as config_validation
from jaxgan.nn import models
from jaxgan.runtime import sharding
from jaxgan.runtime.errors import UserError
from jaxgan.training.state import create_train_state
from jaxgan.training.step import make_train_step, needs_frozen_inputs


def _prepared_step(config: ml_collections.ConfigDict):
    """(compiled step, state, batch, frozen): the real train step of `config` on
    synthetic data already on the devices, compiled, with the family's frozen inputs
    (srgan's loss network; () for most)."""
    config_validation.validate(config)
    if config.conditional and not config.num_classes:  # no dataset to take it from here
        raise UserError(
            "the benchmark runs on synthetic data, so a conditional config needs "
            "--config.num_classes=N (e.g. 10 for CIFAR-10, 1000 for ImageNet)"
        )
    mesh = sharding.data_mesh()
    state = create_train_state(config, jax.random.key(config.seed), mesh)
    shape = (config.d_steps, config.batch_size, *models.data_shape(config))
    rng = np.random.default_rng(0)
    batch = {"image": rng.uniform(-1, 1, shape).astype(np.float32)}
    family = families.of(config)
    if hasattr(family, "synthetic_batch"):  # image-to-image families' own batch forms
        batch = family.synthetic_batch(config, rng)
    if config.conditional:  # needs config.num_classes (there is no dataset to take it from)
        batch["label"] = rng.integers(0, config.num_classes, shape[:2]).astype(np.int32)
    # Several steps per call (config.steps_per_dispatch) take that many batches at once;
    # the timings are per call and are divided back to per step.
    per_call = config.steps_per_dispatch
    if per_call > 1:
        batch = jax.tree.map(lambda x: np.broadcast_to(x, (per_call, *x.shape)), batch)
    batch = jax.device_put(batch, sharding.batch_sharding(mesh, 1 + (per_call > 1)))
    frozen = ()
    if needs_frozen_inputs(config, family):
        frozen = (jax.device_put(family.frozen_inputs(config), sharding.replicated(mesh)),)
    train_step = make_train_step(config, mesh, steps=per_call)
    return train_step.lower(state, batch, *frozen).compile(), state, batch, frozen


def _timed_call(compiled, state, batch, frozen=()):
    start = time.perf_counter()
    state, metrics = compiled(state, batch, *frozen)
    jax.block_until_ready((state, metrics))
    return state, time.perf_counter() - start


def benchmark(
    config: ml_collections.ConfigDict, steps: int = 20, warmup: int = 3, profile_ops: int = 0
) -> dict:
    """The timing record; with `profile_ops`, the op profile's report is printed to
    stderr after timing (a traced step is slower, so it is never timed)."""
    start = time.perf_counter()
    compiled, state, batch, frozen = _prepared_step(config)
    compile_s = time.perf_counter() - start
    for _ in range(warmup):
        state, _ = _timed_call(compiled, state, batch, frozen)
    times = []
    for _ in range(steps):
        state, seconds = _timed_call(compiled, state, batch, frozen)
        times.append(seconds)
    if profile_ops:

        def one_call():
            nonlocal state
            state, _ = _timed_call(compiled, state, batch, frozen)

        rows = op_profile.profile(one_call, compiled.as_text(), steps=min(steps, 5))
        print(op_profile.report(rows, profile_ops), file=sys.stderr, flush=True)
    return _record(config, times, compile_s)


def _record(config: ml_collections.ConfigDict, times: list[float], compile_s: float) -> dict:
    step_s = statistics.median(times) / config.steps_per_dispatch
    memory = jax.devices()[0].memory_stats() or {}
    return {
        "family": config.get("family", "gan"),
        # None for a family with nets of its own (config.model unread).
        "config_model": config.model if getattr(families.of(config), "USES_MODEL", True) else None,
        "image_size": None if config.data_dim else config.image_size,
        "compute_dtype": config.compute_dtype,
        "batch_size": config.batch_size,
        "steps_per_dispatch": config.steps_per_dispatch,
        "img_per_s": round(config.batch_size / step_s, 1),
        "step_ms": round(step_s * 1e3, 2),
        "compile_s": round(compile_s, 2),
        "backend": jax.default_backend(),
        "devices": jax.device_count(),
        "device_kind": jax.devices()[0].device_kind,
        "peak_memory_bytes": memory.get("peak_bytes_in_use"),
        # CPU devices report no memory statistics: the process's peak resident memory
        # (state, activations, compiler and all) is the nearest measure there.
        "peak_host_rss_bytes": peak_host_rss_bytes(),
        "jax": jax.__version__,
    }


def peak_host_rss_bytes() -> int | None:
    """The process's peak resident set size so far (Linux reports it in KiB, macOS in
    bytes)."""
    try:
        import resource
    except ImportError:  # not on this platform
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def environment_settings(text: str) -> dict[str, str]:
    """--against's 'A=1,B=x' -> {'A': '1', 'B': 'x'}."""
    pairs = [item.partition("=") for item in text.split(",") if item]
    if any(not name or not sep for name, sep, _ in pairs):
        raise UserError(f"--against={text!r}: give NAME=VALUE pairs separated by commas")
    return {name: value for name, _, value in pairs}


@contextlib.contextmanager
def _environment(settings: dict[str, str]):
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def interleaved(
    config: ml_collections.ConfigDict, against: dict[str, str], steps: int = 20, warmup: int = 3
) -> tuple[dict, dict]:
    """Timing records of the step as compiled here, and as compiled with the environment
    variables `against` set (those jaxgan reads when it compiles, e.g.
    JAXGAN_ONEDNN_GEMM_MAX_MAP=0), their steps taking turns. On a shared machine, whose load
    moves single runs by 10-25%, this sees differences of a few percent that separate runs
    cannot."""
    start = time.perf_counter()
    runs = [list(_prepared_step(config))]
    compile_s = [time.perf_counter() - start]
    with _environment(against):
        start = time.perf_counter()
        runs.append(list(_prepared_step(config)))
        compile_s.append(time.perf_counter() - start)
    times = [[], []]
    for call in range(warmup + steps):
        order = (0, 1) if call % 2 == 0 else (1, 0)  # neither always goes first
        for which in order:
            compiled, state, batch, frozen = runs[which]
            runs[which][1], seconds = _timed_call(compiled, state, batch, frozen)
            if call >= warmup:
                times[which].append(seconds)
    records = [_record(config, t, c) for t, c in zip(times, compile_s, strict=True)]
    records[1]["environment"] = against
    return records[0], records[1]
