#!/bin/bash
# Every image config's FID under one protocol: each config of configs/ trained at its own
# default length over seeds (a sweep each, ROOT/<config>/), scored by FID and KID of
# SAMPLES generated images against the MNIST test images (config.fid_reference), then one
# table (ROOT/table.md) with the floor of that protocol: real training images scored the
# same way (python -m jaxgan.evaluate --floor).
#
#   launch/config_fids.sh sweeps/fids
#   CONFIGS="dcgan.py lsgan.py" SEEDS=0,1,2 launch/config_fids.sh sweeps/fids --parallel=2
#   FLOOR=0 CONFIGS="sngan.py" launch/config_fids.sh sweeps/fids   # floor measured before
#
# Extra arguments go to every `python -m jaxgan.launch.sweep`. Run it again after an
# interruption: finished runs and scores are kept, the others resume.
set -euo pipefail
root=${1:?usage: launch/config_fids.sh ROOT [sweep flags]}
shift
samples=${SAMPLES:-10000}
configs=${CONFIGS:-dcgan.py dcgan.py:64 vanilla_gan.py wgan.py wgan_gp.py lsgan.py dragan.py \
sngan.py unrolled_gan.py minibatch_discrimination.py sngan_resnet.py sngan_resnet.py:conditional}
roots=()
for config in $configs; do
  sweep="$root/${config//[:.]/_}"
  # A failed run is in its sweep's table; the other configs still run.
  seeds=${SEEDS:-0}
  # The default config's number is a mean over 3 seeds at least.
  if [ "$config" = dcgan.py ]; then seeds=${DEFAULT_CONFIG_SEEDS:-0,1,2}; fi
  python -m jaxgan.launch.sweep --config="configs/$config" --grid="seed=$seeds" \
    --set="fid_reference=mnist:test" --root="$sweep" --eval_num_samples="$samples" "$@" \
    > /dev/null || true
  roots+=("$sweep")
done
# The floor: real training images against the same test images, at 28x28 (the 64 px
# and 32 px configs' floors are those of their own image sizes: run --floor on one of
# their runs to get them).
first_run=$(ls -d "${roots[0]}"/seed=* 2>/dev/null | head -n 1)
if [ "${FLOOR:-1}" != 0 ] && [ -n "$first_run" ] && [ ! -f "$first_run/eval/floor.json" ]; then
  python -m jaxgan.evaluate --workdir="$first_run" --floor --num_samples="$samples" \
    > /dev/null 2>> "$root/floor.log" || true
fi
python -m jaxgan.launch.compare "${roots[@]}" | tee "$root/table.md"
if [ -n "$first_run" ] && [ -f "$first_run/eval/floor.json" ]; then
  python3 -c "import json, sys; r = json.load(open(sys.argv[1])); print(f\"\nFloor ({r['protocol']['fake']} against {r['protocol']['real']}): FID {r['fid']:.2f}, KID {r['kid']:.4f}\")" \
    "$first_run/eval/floor.json" | tee -a "$root/table.md"
fi
