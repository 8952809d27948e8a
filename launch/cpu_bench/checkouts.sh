#!/usr/bin/env bash
# One jaxgan checkout against another on this CPU: `python -m jaxgan.bench` run in each
# checkout's folder in turn (python -m imports the jaxgan of the current folder first),
# PAIRS times, then each side's mean and median and their ratios. How a refactor shows
# that the step kept its speed:
#
#   git worktree add /tmp/old <commit>
#   bash launch/cpu_bench/checkouts.sh /tmp/old . 6 configs/dcgan.py:64 32
set -euo pipefail
old=${1:?usage: checkouts.sh OLD_DIR NEW_DIR [PAIRS] [CONFIG] [BATCH]}
new=${2:?usage: checkouts.sh OLD_DIR NEW_DIR [PAIRS] [CONFIG] [BATCH]}
pairs=${3:-6}
config=${4:-configs/dcgan.py:64}
batch=${5:-32}
out=$(mktemp)
for ((i = 1; i <= pairs; i++)); do
  for side in old new; do
    dir=$old
    [[ $side == new ]] && dir=$new
    (cd "$dir" && python -m jaxgan.bench --config="$config" --batch_size="$batch" --steps="${STEPS:-15}" \
      --warmup=3 | tail -1) |
      python -c "import json, sys; print('$side', json.load(sys.stdin)['img_per_s'])" |
      tee -a "$out"
  done
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
done
python "$(dirname "$0")/summarize.py" "$out"
rm -f "$out"
