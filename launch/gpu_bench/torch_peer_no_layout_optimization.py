"""The peer's `bench()` with torch inductor's layout optimisation off: a tried workaround for
torch 2.11's failure in the peer's compile_cl_bf16 mode (a stride assertion in
convolution_backward). It failed the same way on an H100 on 2026-11-23 (BENCHMARKS.md).

  python launch/gpu_bench/torch_peer_no_layout_optimization.py MODE BATCH PEER_DIR
"""

import json
import sys

import torch
import torch._inductor.config as inductor_config

sys.path.insert(0, sys.argv[3])
import torch_dcgan_bench as peer  # noqa: E402 (found through the path set just above)

inductor_config.layout_optimization = False
torch.backends.cudnn.benchmark = True
mode, batch = sys.argv[1], int(sys.argv[2])
img_per_s, step_s = peer.bench(mode, batch, torch.device("cuda"))
record = {"peer": "torch_dcgan", "mode": mode + "+layout_optimization=False", "batch": batch}
record.update(img_per_s=round(img_per_s, 1), step_ms=round(step_s * 1e3, 3))
print(json.dumps(record), flush=True)
