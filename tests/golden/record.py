"""Records the golden samples of tests/test_golden.py: each run below trained for a few
steps with `python -m jaxgan.main`, then `python -m jaxgan.sample --num=64 --seed=0`.

  python tests/golden/record.py            # writes tests/golden/<cpu kind>/<name>.npz

Run it only when a change is meant to change what training computes (then on every CPU
kind recorded, or delete the others), or to add a CPU kind at a commit whose samples
match an existing kind's; say so in the commit: the test holds every later version to
these arrays.

The same program rounds differently on another CPU: XLA compiles for the host's vector
instructions and oneDNN picks its kernels by them, and both split work by the threads
they may use. So samples are recorded per CPU kind (vendor, widest vector ISA, CPUs this
process may run on): on the AMD AVX2 and Intel AVX-512 machines of this project, 20
steps of the same commit differed by 1-2 grey levels on 1-14% of the pixels.
"""

import os
import pathlib
import platform
import subprocess
import sys
import tempfile

import numpy as np

HERE = pathlib.Path(__file__).parent


def cpu_kind() -> str:
    """e.g. 'intel-avx512-2cpu': the CPU properties that change float rounding here."""
    try:
        info = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        info = ""
    vendor = "intel" if "GenuineIntel" in info else "amd" if "AuthenticAMD" in info else "other"
    flags = set()
    for line in info.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        isa = "avx512"
    elif "avx2" in flags:
        isa = "avx2"
    else:
        isa = platform.machine().lower() or "unknown"
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{vendor}-{isa}-{cpus}cpu"


def recorded_kinds(name: str = "dcgan") -> list[str]:
    """The CPU kinds holding a recording of run `name`. A run changed on purpose is
    re-recorded on the kinds at hand; the stale files of the others are deleted, and
    those kinds then check it against the recorded ones within the across-kinds bound."""
    return sorted(p.parent.name for p in HERE.glob(f"*/{name}.npz"))


# name -> (config, overrides). Each trains 20 steps on CPU in well under a minute.
RUNS = {
    "dcgan": ("configs/dcgan.py", ["--config.batch_size=32"]),
    "wgan_gp": (
        "configs/wgan_gp.py",
        ["--config.batch_size=32", "--config.g_width=16", "--config.d_width=16"],
    ),
    "sngan_resnet_conditional": (
        "configs/sngan_resnet.py:conditional",
        ["--config.batch_size=16", "--config.g_width=16", "--config.d_width=16"],
    ),
    "ring8_unrolled5": ("configs/mode_collapse.py:ring8,unrolled5", ["--config.batch_size=64"]),
    "minibatch_discrimination": (
        "configs/minibatch_discrimination.py",
        ["--config.batch_size=32", "--config.g_width=16", "--config.d_width=16"],
    ),
}
STEPS = 20


def commands(name: str, workdir: pathlib.Path, out: pathlib.Path) -> list[list[str]]:
    config, overrides = RUNS[name]
    common = [
        f"--config.num_train_steps={STEPS}",
        f"--config.checkpoint_every_steps={STEPS}",
        f"--config.log_every_steps={STEPS}",
    ]
    train = [sys.executable, "-m", "jaxgan.main", f"--config={config}", f"--workdir={workdir}"]
    sample = [sys.executable, "-m", "jaxgan.sample", f"--workdir={workdir}", "--num=64"]
    return [train + overrides + common, sample + ["--seed=0", f"--out={out}"]]


def points(workdir: pathlib.Path, num: int = 64, seed: int = 0) -> np.ndarray:
    """A 2-D run's samples: `jaxgan.sample` writes images only, so the points are drawn
    here through the same restore and latents (point i from fold_in(key(seed), i))."""
    import jax

    from jaxgan.sampling import latents, restore, sampler

    restored = restore.restore(workdir)
    z = latents.gaussian(jax.random.key(seed), np.arange(num), restored.config.latent_dim)
    sample = sampler.make_sampler(restored.generator, restored.config.sample_with_running_stats)
    return np.asarray(jax.device_get(sample(restored.net, z)))


def samples(name: str, tmp: pathlib.Path) -> dict[str, np.ndarray]:
    workdir, out = tmp / name, tmp / f"{name}.npz"
    train, sample = commands(name, workdir, out)
    subprocess.run(train, check=True, cwd=HERE.parent.parent, capture_output=True)
    if "ring8" in name:
        return {"points": points(workdir)}
    subprocess.run(sample, check=True, cwd=HERE.parent.parent, capture_output=True)
    with np.load(out) as arrays:
        return dict(arrays)


if __name__ == "__main__":
    folder = HERE / cpu_kind()
    folder.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in sys.argv[1:] or RUNS:
            arrays = samples(name, pathlib.Path(tmp))
            np.savez_compressed(folder / f"{name}.npz", **arrays)
            print(folder.name, name, {k: (v.shape, v.dtype) for k, v in arrays.items()})
