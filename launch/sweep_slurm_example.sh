#!/bin/bash
# The ablation of launch/losses_dnorm.yaml as a SLURM job array, one task per run.
# Run from the jaxgan checkout, in the Python environment that has jaxgan: sbatch
# passes that environment to the tasks.
set -euo pipefail
ROOT=sweeps/losses_dnorm

# Writes $ROOT/sweep.slurm (#SBATCH --array=0-26, a `case` on $SLURM_ARRAY_TASK_ID) and
# $ROOT/commands.sh; runs nothing.
python -m jaxgan.launch.sweep \
  --config=configs/dcgan.py \
  --grid=launch/losses_dnorm.yaml \
  --set="num_train_steps=5000 g_ema_decay=0.999" \
  --root="$ROOT" \
  --print > /dev/null

# Site options on the command line override the script's; %8: at most 8 tasks at once.
sbatch --partition=gpu --gres=gpu:1 --time=12:00:00 --array=0-26%8 "$ROOT/sweep.slurm"

# When the array is done (resubmitting is safe: finished runs are skipped by the trainer
# and evaluated ones by the script), tabulate without running anything:
#   python -m jaxgan.launch.sweep --root=sweeps/losses_dnorm --collect
