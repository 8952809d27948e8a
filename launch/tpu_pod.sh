#!/bin/bash
# One jaxgan run on a Cloud TPU VM pod slice (e.g. v4-32: 4 hosts): the same command on
# every worker at once; jax.distributed.initialize() learns the coordinator, process
# count and process id from the TPU VM's metadata, so no jaxgan flag names them.
# NOT RUN HERE (no TPU was at hand): checked only with `bash -n`. Run it from your own
# machine, with gcloud logged in and jaxgan installed on every worker (e.g. by
# `--command="pip install -e ~/jaxgan"` the same way) at ~/jaxgan:
#
#   TPU_NAME=my-v4-32 ZONE=us-central2-b launch/tpu_pod.sh \
#     --config=configs/dcgan.py:64 --workdir=/mnt/shared/runs/dcgan64
#
# The workdir must be on storage every worker sees (an NFS or Filestore mount; jaxgan's
# workdir is a local path, not gs://): Orbax writes each checkpoint from all workers
# together, and worker 0 alone writes logs and samples. Worker 0's output comes back here;
# gcloud prints every worker's, prefixed by its number.
set -euo pipefail
: "${TPU_NAME:?set TPU_NAME to the name of the pod slice}"
: "${ZONE:?set ZONE to its zone}"
if [[ $# -eq 0 ]]; then
  echo "usage: TPU_NAME=... ZONE=... $0 JAXGAN_MAIN_FLAGS... (--config=..., --workdir=...)" >&2
  exit 2
fi
FLAGS=$(printf '%q ' "$@")
gcloud compute tpus tpu-vm ssh "$TPU_NAME" --zone="$ZONE" --worker=all \
  --command="cd ~/jaxgan && python3 -m jaxgan.main --distributed_timeout=300 $FLAGS"
