"""The peer's DCGAN step with torch.compile applied to G and D (the modules) rather than to
the whole step: the peer's own `compile*` modes fail on torch 2.11 (BENCHMARKS.md), and
compiling the modules is how torch.compile is usually applied to a GAN.

  python launch/gpu_bench/torch_compiled_modules.py PEER_SCRIPT BATCH[,BATCH...] [MODE]

MODE is one of the peer's eager modes (default eager_cl_bf16; eager_bf16 keeps the default
memory format): everything else (model, data on the device, memory format, bf16 autocast,
fused Adam, warm-up and median timing) is the peer script's own `bench()`, imported from
PEER_SCRIPT.
"""

import importlib.util
import json
import sys

import torch

spec = importlib.util.spec_from_file_location("peer", sys.argv[1])
peer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peer)
make_g, make_d = peer.gen, peer.disc
peer.gen = lambda: torch.compile(make_g())
peer.disc = lambda: torch.compile(make_d())
torch.backends.cudnn.benchmark = True
mode = sys.argv[3] if len(sys.argv) > 3 else "eager_cl_bf16"
for batch in (int(b) for b in sys.argv[2].split(",")):
    img_per_s, step_s = peer.bench(mode, batch, torch.device("cuda"))
    record = {"peer": "torch_dcgan", "mode": "modules_compiled_" + mode, "batch": batch}
    record.update(img_per_s=round(img_per_s, 1), step_ms=round(step_s * 1e3, 3))
    print(json.dumps(record), flush=True)
