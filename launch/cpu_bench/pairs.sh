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
python "$(dirname "$0")/summarize.py" "$out"
rm -f "$out"
