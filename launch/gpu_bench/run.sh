#!/bin/bash
# The GPU rows of BENCHMARKS.md: the peer's modes and jaxgan's DCGAN 64 step, side by side.
#
# On a machine with a CUDA GPU, jax[cuda], flax, optax, chex, ml_collections and torch:
#   bash launch/gpu_bench/run.sh PEER_SCRIPT   (../shared/peers/torch_dcgan_bench.py)
# Through this workplace's device tool, stage what does not travel in an ignored folder
# first (.gpu: the peer script and an ml_collections wheel in .gpu/whl), carry it, and
# start with: pip install --target /tmp/site .gpu/whl/*.whl; export PYTHONPATH=/tmp/site.
# About 10 minutes on an H100; each line it prints is one JSON record or a peer error.
set -u
PEER=${1:?usage: run.sh PEER_SCRIPT}
export PYTHONUNBUFFERED=1 STEPS=50 WARM=10
HERE=$(dirname "$0")
J="python3 -m jaxgan.bench --config=configs/dcgan.py:64 --steps=50 --warmup=10"
keep() { grep -E '^\{|Error:' | grep -v '^Error in op' | tail -4; }
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem --format=csv,noheader
# The peer: each mode in its own process, as its compile modes fail on torch 2.11.
for mode in eager eager_cl_bf16 compile_bf16 compile_cl_bf16; do
  timeout 300 python3 "$PEER" "$mode" 256 2>&1 | keep
done
timeout 300 python3 "$HERE/torch_peer_no_layout_optimization.py" compile_cl_bf16 256 \
  "$(dirname "$PEER")" 2>&1 | keep
timeout 300 python3 "$HERE/torch_compiled_modules.py" "$PEER" 256 eager_cl_bf16 2>&1 | keep
timeout 300 python3 "$HERE/torch_compiled_modules.py" "$PEER" 256,64,1024 eager_bf16 2>&1 | keep
timeout 300 python3 "$HERE/torch_compiled_modules.py" "$PEER" 256 eager 2>&1 | keep
timeout 300 python3 "$PEER" eager_cl_bf16 64,1024 2>&1 | keep
# jaxgan: each lowering of the generator's upsampling, float32 and bf16, then batch sizes.
for impl in conv_transpose=xla,conv=xla conv_transpose=phase,conv=xla \
  conv_transpose=phase,conv=space_to_depth; do
  for dtype in float32 bfloat16; do
    $J --batch_size=256 --layer_implementation=$impl --config.compute_dtype=$dtype 2>&1 | keep
  done
done
for batch in 64 256 1024; do
  for k in 1 10; do
    $J --batch_size=$batch --config.compute_dtype=bfloat16 --config.steps_per_dispatch=$k 2>&1 | keep
  done
done
$J --batch_size=256 --config.compute_dtype=bfloat16 --steps=5 --profile_ops=30 2>&1 | tail -36
