"""Records the golden samples of tests/test_golden.py: each run below trained for a few
steps with `python -m jaxgan.main`, then `python -m jaxgan.sample --num=64 --seed=0`.

  python tests/golden/record.py            # writes tests/golden/<name>.npz

Run it only when a change is meant to change what training computes, and say so in the
commit: the test holds every later version to these arrays.
"""

import pathlib
import subprocess
import sys
import tempfile

import numpy as np

HERE = pathlib.Path(__file__).parent

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
    with tempfile.TemporaryDirectory() as tmp:
        for name in sys.argv[1:] or RUNS:
            arrays = samples(name, pathlib.Path(tmp))
            np.savez_compressed(HERE / f"{name}.npz", **arrays)
            print(name, {k: (v.shape, v.dtype) for k, v in arrays.items()})
