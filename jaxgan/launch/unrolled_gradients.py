"""Where an unrolled GAN's generator gradient points: G's gradient at a checkpoint of a
run, taken three ways on the same batches and keys.

    python -m jaxgan.launch.unrolled_gradients RUN [STEP] [N]

- `second order`: through the unrolled D steps (Metz et al.'s eq. 7, the default);
- `first order`: the unrolled steps on the fakes as constants (unrolled_second_order=False);
- `no unrolling`: the plain step's, at the freshly updated D.

STEP is a checkpoint (the latest by default); N (3) the batches to take it on: the run's
own next N real batches after STEP (the data order of a resume) with their steps' keys,
always at the checkpoint's parameters. D's update of that step is applied first, as in
training. Prints each gradient's norm, the norm of the second-order part (second minus
first order) and the cosines between them: a second-order part as large as the
first-order gradient and pointing against it is a G that barely moves. For runs of the
gan family with config.unroll_steps > 0 (the unroll count and D's optimiser are the run's).
"""

import functools
import pathlib
import sys

import jax
import jax.numpy as jnp

from jaxgan.data import datasets, pipeline
from jaxgan.families import Context, gan
from jaxgan.runtime import cli
from jaxgan.runtime.errors import UserError
from jaxgan.sampling import restore
from jaxgan.training import workdir as workdir_lib
from jaxgan.training.step import run_phase


def flat(tree) -> jax.Array:
    return jnp.concatenate([leaf.ravel() for leaf in jax.tree.leaves(tree)])


def variants(config) -> dict:
    """Configs of the three ways, differing only in the unrolling settings."""
    unrolled = config.unroll_steps
    ways = {"second order": (unrolled, True), "first order": (unrolled, False)}
    ways["no unrolling"] = (0, True)
    made = {}
    for name, (steps, second_order) in ways.items():
        made[name] = config.copy_and_resolve_references()
        made[name].unroll_steps, made[name].unrolled_second_order = steps, second_order
    return made


def gradients(restored: restore.Restored, state, batch: dict, key: jax.Array) -> dict:
    """G's flattened gradient each way, after the step's D update from `state`."""
    config, nets = restored.config, restored.nets
    objectives = {name: gan.Objectives(c, nets) for name, c in variants(config).items()}
    d_phase = gan.phases(config, nets, objectives["second order"])[0]
    optimizers = restored.family.optimizers(config)
    state, _, handoff = run_phase(d_phase, optimizers, state, batch, key, {})
    context = Context(state, batch, key, 0, handoff)
    params = {"g": state.nets["g"].params}
    return {
        name: flat(jax.grad(lambda p, o=o: gan.unrolled_g_loss(o, p, context)[0])(params))
        for name, o in objectives.items()
    }


def report(grads: dict[str, jax.Array]) -> str:
    def cosine(a, b):
        return float(a @ b / (jnp.linalg.norm(a) * jnp.linalg.norm(b)))

    second, first, plain = grads["second order"], grads["first order"], grads["no unrolling"]
    part = second - first
    norms = ", ".join(f"{name} {float(jnp.linalg.norm(g)):.3g}" for name, g in grads.items())
    return (
        f"norms: {norms}; second-order part {float(jnp.linalg.norm(part)):.3g} | cosines: "
        f"second/first {cosine(second, first):.3f}, first/none {cosine(first, plain):.3f}, "
        f"second-order part/first {cosine(part, first):.3f}"
    )


def whole_number(text: str, what: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise UserError(f"{what} must be an integer >= {least}, got {text!r}")
    return value


def main(argv: list[str]) -> None:
    with cli.user_errors():
        if not 1 <= len(argv) <= 3:
            raise UserError("usage: python -m jaxgan.launch.unrolled_gradients RUN [STEP] [N]")
        run = pathlib.Path(argv[0])
        step = whole_number(argv[1], "STEP", 0) if len(argv) > 1 else None
        count = whole_number(argv[2], "N (batches)", 1) if len(argv) > 2 else 3
        config = workdir_lib.read_config(run)  # before the restore: refuse other runs quickly
        if config.get("family", "gan") != "gan":
            raise UserError(f"{run} is a run of the {config.family} family, not an unrolled GAN")
        if not config.unroll_steps:
            raise UserError(f"{run} is not an unrolled GAN run (its config.unroll_steps is 0)")
        restored = restore.restore(run, step)
        step = restored.step
        batches = pipeline.real_batches(datasets.load(config), config, step * config.d_steps)
        measure = jax.jit(functools.partial(gradients, restored))
        run_key = jax.random.wrap_key_data(restored.state.key)
        print(f"{run}: G's gradient at checkpoint {step}, {config.unroll_steps} unrolled D steps")
        for offset in range(count):
            # The checkpoint's parameters throughout; the batch and key of step + offset.
            batch = jax.tree.map(jnp.asarray, next(batches))
            grads = measure(restored.state, batch, jax.random.fold_in(run_key, step + offset))
            print(f"  batch of step {step + offset}: {report(grads)}")


if __name__ == "__main__":
    main(sys.argv[1:])
