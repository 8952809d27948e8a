#!/bin/bash
# BigGAN beside the projection SNGAN ResNet (and any other conditional config) on
# conditional Fashion-MNIST at 32 px, each shown the same number of real images: a sweep
# over seeds per config (ROOT/<config>/), each run scored by FID against Fashion-MNIST's
# test images and by the classification accuracy of its samples (a CNN trained on the
# real training split labels them; jaxgan/metrics/class_accuracy.py), then one table
# (ROOT/table.md).
#
#   IMAGES=2000000 SEEDS=0,1,2 launch/conditional_fashion.sh sweeps/fashion
#
# IMAGES counts the real images D sees (batch_size x d_steps per step): configs that use
# more per step get fewer steps. Needs Debian's dataset-fashion-mnist. Extra arguments
# go to every `python -m jaxgan.launch.sweep`. Run it again after an interruption.
set -euo pipefail
root=${1:?usage: launch/conditional_fashion.sh ROOT [sweep flags]}
shift
images=${IMAGES:-2000000}
samples=${SAMPLES:-10000}
# config -> real images per step (its batch_size x d_steps)
declare -A per_step=(["biggan.py"]=$((50 * 4)) ["sngan_resnet.py:conditional"]=$((64 * 5)))
roots=()
for config in ${CONFIGS:-biggan.py sngan_resnet.py:conditional}; do
  steps=$(( images / ${per_step[$config]:?"no images-per-step entry for $config"} ))
  every=$(( steps / 5 > 0 ? steps / 5 : 1 ))
  sweep="$root/${config//[:.]/_}"
  python -m jaxgan.launch.sweep --config="configs/$config" --grid="seed=${SEEDS:-0}" \
    --set="dataset=fashion_mnist fid_reference=fashion_mnist:test num_train_steps=$steps checkpoint_every_steps=$every" \
    --root="$sweep" --eval_num_samples="$samples" "$@" > /dev/null || true
  roots+=("$sweep")
done
python -m jaxgan.launch.compare "${roots[@]}" | tee "$root/table.md"
