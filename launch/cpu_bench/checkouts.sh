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
    (cd "$dir" && python -m jaxgan.bench --config="$config" --batch_size="$batch" --steps=15 \
      --warmup=3 | tail -1) |
      python -c "import json, sys; print('$side', json.load(sys.stdin)['img_per_s'])" |
      tee -a "$out"
  done
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
done
python - "$out" <<'PY'
import statistics, sys
runs = {"old": [], "new": []}
for line in open(sys.argv[1]):
    name, value = line.split()
    runs[name].append(float(value))
old, new = runs["old"], runs["new"]
ratios = [n / o for n, o in zip(new, old)]
print(f"old img/s: mean {statistics.mean(old):.1f}, median {statistics.median(old):.1f}")
print(f"new img/s: mean {statistics.mean(new):.1f}, median {statistics.median(new):.1f}")
print(f"new/old: ratio of means {statistics.mean(new) / statistics.mean(old):.3f}, of medians "
      f"{statistics.median(new) / statistics.median(old):.3f}; pairs "
      f"{min(ratios):.3f}-{max(ratios):.3f}")
PY
rm -f "$out"
