#!/bin/bash
# The mode-collapse laboratory: every remedy of configs/mode_collapse.py on one benchmark,
# each a sweep over seeds (ROOT/<remedy>/), then one comparison table (ROOT/comparison.md).
#
#   launch/mode_collapse.sh ring8 sweeps/ring8
#   REMEDIES="gan pack2" SEEDS=0,1 launch/mode_collapse.sh ring8 sweeps/ring8 \
#     --set="num_train_steps=2000" --parallel=2
#   NETWORKS=pacgan REMEDIES="gan pack2 pack3 pack4" launch/mode_collapse.sh ring8 sweeps/pac
#
# Extra arguments go to every `python -m jaxgan.launch.sweep`. Run it again after an
# interruption: finished runs are skipped, the others resume.
set -euo pipefail
dataset=${1:?usage: launch/mode_collapse.sh ring8|grid25|stacked_mnist ROOT [sweep flags]}
root=${2:?usage: launch/mode_collapse.sh ring8|grid25|stacked_mnist ROOT [sweep flags]}
shift 2
# The papers' sample counts for the metrics.
samples=2500
if [ "$dataset" = stacked_mnist ]; then samples=26000; fi
roots=()
for remedy in ${REMEDIES:-gan unrolled5 unrolled10 minibatch pack2 pack3 pack4}; do
  # A failed run is in its sweep's table; the other remedies still run.
  python -m jaxgan.launch.sweep --config="configs/mode_collapse.py:$dataset,$remedy${NETWORKS:+,$NETWORKS}" \
    --grid="seed=${SEEDS:-0,1,2}" --root="$root/$remedy" --eval_num_samples="$samples" "$@" \
    > /dev/null || true
  roots+=("$root/$remedy")
done
python -m jaxgan.launch.compare "${roots[@]}" | tee "$root/comparison.md"
