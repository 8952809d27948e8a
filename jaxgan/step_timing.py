"""Timing the real train step of a config on synthetic data already on the devices: the
library side of `python -m jaxgan.bench` (flag-free, so tests and other tools import it)."""

import statistics
import sys
import time

import jax
import ml_collections
import numpy as np

from jaxgan import config_validation, models, op_profile, sharding
from jaxgan.train_state import create_train_state
from jaxgan.train_step import make_train_step


def benchmark(
    config: ml_collections.ConfigDict, steps: int = 20, warmup: int = 3, profile_ops: int = 0
) -> dict:
    """The timing record; with `profile_ops`, the op profile's report is printed to
    stderr after timing (a traced step is slower, so it is never timed)."""
    config_validation.validate(config)
    mesh = sharding.data_mesh()
    state = create_train_state(config, jax.random.key(config.seed), mesh)
    shape = (config.d_steps, config.batch_size, *models.data_shape(config))
    rng = np.random.default_rng(0)
    batch = {"image": rng.uniform(-1, 1, shape).astype(np.float32)}
    if config.conditional:  # needs config.num_classes (there is no dataset to take it from)
        batch["label"] = rng.integers(0, config.num_classes, shape[:2]).astype(np.int32)
    # Several steps per call (config.steps_per_dispatch) take that many batches at once;
    # the timings below are per call and are divided back to per step.
    per_call = config.steps_per_dispatch
    if per_call > 1:
        batch = jax.tree.map(lambda x: np.broadcast_to(x, (per_call, *x.shape)), batch)
    batch = jax.device_put(batch, sharding.batch_sharding(mesh, 1 + (per_call > 1)))
    train_step = make_train_step(config, mesh, steps=per_call)

    start = time.perf_counter()
    compiled = train_step.lower(state, batch).compile()
    compile_s = time.perf_counter() - start
    for _ in range(warmup):
        state, metrics = compiled(state, batch)
    jax.block_until_ready(state)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        state, metrics = compiled(state, batch)
        jax.block_until_ready((state, metrics))
        times.append(time.perf_counter() - start)
    step_s = statistics.median(times) / per_call
    if profile_ops:

        def one_call():
            nonlocal state
            state, metrics = compiled(state, batch)
            jax.block_until_ready((state, metrics))

        rows = op_profile.profile(one_call, compiled.as_text(), steps=min(steps, 5))
        print(op_profile.report(rows, profile_ops), file=sys.stderr, flush=True)
    memory = jax.devices()[0].memory_stats() or {}
    return {
        "config_model": config.model,
        "image_size": None if config.data_dim else config.image_size,
        "compute_dtype": config.compute_dtype,
        "batch_size": config.batch_size,
        "steps_per_dispatch": per_call,
        "img_per_s": round(config.batch_size / step_s, 1),
        "step_ms": round(step_s * 1e3, 2),
        "compile_s": round(compile_s, 2),
        "backend": jax.default_backend(),
        "devices": jax.device_count(),
        "device_kind": jax.devices()[0].device_kind,
        "peak_memory_bytes": memory.get("peak_bytes_in_use"),
        "jax": jax.__version__,
    }
