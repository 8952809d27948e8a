#!/bin/bash
# The mode-collapse laboratory on one GPU: GAN vs PacGAN2-4 on ring8 and grid25 with
# NETWORKS (e.g. pacgan), all 8 sweeps (and their SEEDS) at once on the one GPU, stopped
# at DEADLINE seconds: runs still training then save a checkpoint and are scored there.
# Through the device tool: stage ml_collections and tensorboardX wheels in .gpu/whl.
# usage: bash launch/gpu_bench/mode_collapse.sh NETWORKS TRAIN_SECONDS SEEDS [DEADLINE_SECONDS]
NETWORKS=$1; TRAIN_S=$2; SEEDS=$3; DEADLINE=${4:-420}
START=$(date +%s)
if [ -d .gpu/whl ] && ! python3 -c "import ml_collections, tensorboardX" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
OUTDIR=${OUT:-/tmp/out}; mkdir -p $OUTDIR; ROOT=/tmp/sweeps; rm -rf $ROOT $ROOT-*.log
K=500
for r in gan pack4; do
  python3 -m jaxgan.bench --config=configs/mode_collapse.py:ring8,$r${NETWORKS:+,$NETWORKS} --steps=3 --warmup=1 --config.steps_per_dispatch=$K 2>&1 | grep '^{' | tee -a $OUTDIR/bench.jsonl
done
# 16 runs share the GPU (8 sweeps x 2 seeds at once): assume each runs 8x slower than alone.
STEPS=$(python3 - "$TRAIN_S" $OUTDIR/bench.jsonl <<'PY'
import json, sys
ms = max(json.loads(l)["step_ms"] for l in open(sys.argv[2]))
steps = int(float(sys.argv[1]) * 1e3 / (8 * ms)) // 2000 * 2000
print(max(2000, min(400_000, steps)))
PY
)
echo "training $STEPS steps per run; $(($(date +%s) - START)) s so far"
pids=()
for ds in ring8 grid25; do
  for r in gan pack2 pack3 pack4; do
    python3 -m jaxgan.launch.sweep --config="configs/mode_collapse.py:$ds,$r${NETWORKS:+,$NETWORKS}" \
      --grid="seed=$SEEDS" --root=$ROOT/$ds/$r --parallel=4 --eval_num_samples=2500 \
      --set="num_train_steps=$STEPS checkpoint_every_steps=$((STEPS/4)) log_every_steps=$((STEPS/20)) steps_per_dispatch=$K" \
      > $ROOT-$ds-$r.log 2>&1 &
    pids+=($!)
  done
done
# At the deadline, runs still training save a checkpoint (SIGTERM) and stop; they are
# evaluated at that checkpoint below.
( sleep $((DEADLINE - ($(date +%s) - START))); echo "deadline: stopping what still runs";
  pkill -TERM -f "jaxgan.main"; sleep 20; pkill -TERM -f jaxgan.launch.sweep ) &
watchdog=$!
wait "${pids[@]}"
kill $watchdog 2>/dev/null
echo "sweeps done at $(($(date +%s) - START)) s"
for run in $ROOT/*/*/seed=*; do
  last=$(ls $run/checkpoints 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -1)
  if [ -n "$last" ] && [ ! -f $run/eval/metrics_$last.json ]; then
    python3 -m jaxgan.evaluate --workdir=$run --num_samples=2500 > $run/eval.log 2>&1 &
  fi
done
wait
python3 "$(dirname "$0")/collect_modes.py" $ROOT | tee $OUTDIR/modes.md
grep -h -E "img/s" $ROOT/ring8/pack4/seed=0/train.log 2>/dev/null | tail -2
for ds in ring8 grid25; do for r in gan pack2; do
  cp $ROOT/$ds/$r/seed=0/samples/scatter_$STEPS.png $OUTDIR/scatter-$ds-$r.png 2>/dev/null
done; done
ls $OUTDIR
