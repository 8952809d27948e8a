#!/bin/bash
# Issue "ProGAN and StyleGAN2": the growing and style-based GANs beside the DCGAN and the
# SNGAN ResNet on Fashion-MNIST at 32x32 (grey), each shown the same real images, FID
# over training: a sweep over seeds per config (ROOT/<config>/), each run scored at every
# EVERY real images by config.fid_every_steps (SAMPLES samples against the 10k test
# images), then one table, FID by images shown (ROOT/table.md, jaxgan.launch.over_training).
#
#   launch/growing_fashion.sh sweeps/growing
#   IMAGES=480000 EVERY=96000 SEEDS=0,1,2 launch/growing_fashion.sh sweeps/growing --parallel=2
#
# A config's real images per step are its batch_size x d_steps; IMAGES and EVERY must be
# multiples of each config's (the defaults are). progan.py:fashion's schedule is 30 kimg
# per phase, so 240k images is its whole run (32x32 from 180k); stylegan2.py:fashion is
# the reference's `auto` configuration narrowed, R1 and path length on. Needs Debian's
# dataset-fashion-mnist. Extra arguments go to every `python -m jaxgan.launch.sweep`.
# Run it again after an interruption: finished runs are kept, the others resume.
set -euo pipefail
root=${1:?usage: launch/growing_fashion.sh ROOT [sweep flags]}
shift
images=${IMAGES:-240000}
every=${EVERY:-48000}
samples=${SAMPLES:-5000}
# config -> real images per step (its batch_size x d_steps)
declare -A per_step=(["progan.py:fashion"]=64 ["stylegan2.py:fashion"]=32 ["dcgan.py:32"]=128
  ["sngan_resnet.py"]=$((64 * 5)))
roots=()
for config in ${CONFIGS:-progan.py:fashion stylegan2.py:fashion dcgan.py:32 sngan_resnet.py}; do
  n=${per_step[$config]:?"no images-per-step entry for $config"}
  if (( images % n || every % n )); then
    echo "IMAGES=$images and EVERY=$every must be multiples of $config's $n images a step" >&2
    exit 2
  fi
  sweep="$root/${config//[:.]/_}"
  python -m jaxgan.launch.sweep --config="configs/$config" --grid="seed=${SEEDS:-0}" \
    --set="dataset=fashion_mnist fid_reference=fashion_mnist:test num_channels=1" \
    --set="num_train_steps=$((images / n)) checkpoint_every_steps=$((every / n))" \
    --set="fid_every_steps=$((every / n)) fid_num_samples=$samples" \
    --root="$sweep" --eval_num_samples=0 "$@" > /dev/null || true
  roots+=("$sweep")
done
python -m jaxgan.launch.over_training "${roots[@]}" | tee "$root/table.md"
