#!/bin/bash
# Lucic et al. 2018, "Are GANs Created Equal?": every loss of
# configs/are_gans_created_equal.py on MNIST and Fashion-MNIST over seeds, each a sweep
# (ROOT/<dataset>/<loss>/), scored by FID of 10k samples against the 10k test images,
# then the table beside the paper's best FIDs (ROOT/table.md).
#
#   launch/are_gans_created_equal.sh sweeps/lucic
#   DATASETS=mnist LOSSES="ns wgan" SEEDS=0,1,2 launch/are_gans_created_equal.sh sweeps/lucic
#   ALL_CHECKPOINTS=1 launch/are_gans_created_equal.sh sweeps/lucic   # the study's rule
#
# ALL_CHECKPOINTS=1 also scores every kept checkpoint (5 a run) and the table takes each
# run's best, as the study does; by default only the final checkpoint is scored.
# SAMPLES and NUM_REAL (generated and reference images; 10000 and the whole 10k test
# split by default) apply to every score; give them here, not as sweep flags. Extra
# arguments go to every `python -m jaxgan.launch.sweep` (e.g. --parallel=2). Run it
# again after an interruption: finished runs and scores are kept, the others resume.
set -euo pipefail
root=${1:?usage: launch/are_gans_created_equal.sh ROOT [sweep flags]}
shift
samples=${SAMPLES:-10000}  # the study's count; fewer only to try the launcher
real_sweep=() real_eval=()
if [ -n "${NUM_REAL:-}" ]; then
  real_sweep=(--eval_num_real="$NUM_REAL") real_eval=(--num_real="$NUM_REAL")
fi
for dataset in ${DATASETS:-mnist fashion_mnist}; do
  for loss in ${LOSSES:-mm ns lsgan wgan wgan_gp dragan}; do
    sweep="$root/$dataset/$loss"
    # A failed run is in its sweep's table; the other losses still run.
    python -m jaxgan.launch.sweep --config="configs/are_gans_created_equal.py:$loss,$dataset" \
      --grid="seed=${SEEDS:-0,1,2}" --root="$sweep" --eval_num_samples="$samples" "${real_sweep[@]}" "$@" \
      > /dev/null || true
    if [ -n "${ALL_CHECKPOINTS:-}" ]; then
      for run in "$sweep"/seed=*; do
        for checkpoint in "$run"/checkpoints/*/; do
          step=$(basename "$checkpoint")
          [[ "$step" =~ ^[0-9]+$ ]] || continue
          [ -f "$run/eval/metrics_$step.json" ] || python -m jaxgan.evaluate \
            --workdir="$run" --step="$step" --num_samples="$samples" "${real_eval[@]}" \
            >> "$run/eval.log" 2>&1 || true
        done
      done
    fi
  done
done
python -m jaxgan.launch.created_equal "$root" | tee "$root/table.md"
