#!/bin/bash
# The ablation of launch/losses_dnorm.yaml on this machine, two runs at a time.
# Run it again after an interruption: finished runs are skipped, the others resume.
# Results: sweeps/losses_dnorm/results.md (and .csv).
set -euo pipefail
python -m jaxgan.launch.sweep \
  --config=configs/dcgan.py \
  --grid=launch/losses_dnorm.yaml \
  --set="num_train_steps=5000 g_ema_decay=0.999" \
  --root=sweeps/losses_dnorm \
  --parallel=2
