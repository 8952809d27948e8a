"""The state, the generic step, the loop, checkpoints, the workdir, interruption."""
