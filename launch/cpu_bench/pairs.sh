#!/usr/bin/env bash
# jaxgan against the PyTorch peer on this CPU: DCGAN 64 at batch 32, float32, the peer's eager
# step then jaxgan's, PAIRS times in turn (this VM's load moves single runs by 10-25%, so one
# pair proves little). Prints each pair and the means, medians and their ratios.
#
#   bash launch/cpu_bench/pairs.sh ../shared/peers/torch_dcgan_bench.py [PAIRS=6]
set -euo pipefail
peer=${1:?usage: pairs.sh PEER_SCRIPT [PAIRS]}
pairs=${2:-6}
out=$(mktemp)
for ((i = 1; i <= pairs; i++)); do
  STEPS=15 WARM=3 python "$peer" eager 32 | tail -1 |
    python -c 'import json, sys; print("peer", json.load(sys.stdin)["img_per_s"])' | tee -a "$out"
  python -m jaxgan.bench --config=configs/dcgan.py:64 --batch_size=32 --steps=15 --warmup=3 |
    tail -1 | python -c 'import json, sys; print("jaxgan", json.load(sys.stdin)["img_per_s"])' |
    tee -a "$out"
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
done
python - "$out" <<'PY'
import statistics, sys
runs = {"peer": [], "jaxgan": []}
for line in open(sys.argv[1]):
    name, value = line.split()
    runs[name].append(float(value))
peer, ours = runs["peer"], runs["jaxgan"]
ratios = [o / p for o, p in zip(ours, peer)]
print(f"peer   img/s: mean {statistics.mean(peer):.1f}, median {statistics.median(peer):.1f}")
print(f"jaxgan img/s: mean {statistics.mean(ours):.1f}, median {statistics.median(ours):.1f}")
print(f"ratio of means {statistics.mean(ours) / statistics.mean(peer):.2f}x, of medians "
      f"{statistics.median(ours) / statistics.median(peer):.2f}x; pairs "
      f"{min(ratios):.2f}-{max(ratios):.2f}x")
PY
rm -f "$out"
