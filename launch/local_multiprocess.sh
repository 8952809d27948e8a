#!/bin/bash
# One run as N jaxgan processes on this machine, joined by jax.distributed on 127.0.0.1:
# a rehearsal of a multi-host run (each process plays a host, with one CPU device unless
# JAX_PLATFORMS says otherwise). Run from the jaxgan checkout:
#
#   launch/local_multiprocess.sh 2 --config=configs/dcgan.py --workdir=runs/dcgan_2proc
#
# Process 0 prints to this terminal; process i logs to $LOG_DIR/process_i.log. Ctrl-C
# (or SIGTERM) reaches every process: they save a checkpoint at the next log step and
# stop, and the same command resumes. The exit status is the first non-zero one.
set -uo pipefail
if [[ $# -lt 2 || ! $1 =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 NUM_PROCESSES JAXGAN_MAIN_FLAGS..." >&2
  exit 2
fi
NUM_PROCESSES=$1
shift
PORT=${PORT:-$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
LOG_DIR=${LOG_DIR:-$(mktemp -d -t jaxgan-local-XXXXXX)}
export JAX_PLATFORMS=${JAX_PLATFORMS:-cpu}

pids=()
run_process() {
  exec python -m jaxgan.main "${FLAGS[@]}" \
    --coordinator_address="127.0.0.1:$PORT" \
    --num_processes="$NUM_PROCESSES" \
    --process_id="$1"
}
FLAGS=("$@")
for ((i = 0; i < NUM_PROCESSES; i++)); do
  if ((i == 0)); then
    run_process 0 &
  else
    run_process "$i" 2>"$LOG_DIR/process_$i.log" &
  fi
  pids+=($!)
done
((NUM_PROCESSES > 1)) && echo "processes other than 0 log to $LOG_DIR" >&2
# Background jobs of a script ignore Ctrl-C: pass it on as SIGTERM.
trap 'kill -TERM "${pids[@]}" 2>/dev/null' INT TERM

status=0
for pid in "${pids[@]}"; do
  # `wait` returns early when a trapped signal arrives: wait again for the exit.
  while true; do
    wait "$pid"
    code=$?
    kill -0 "$pid" 2>/dev/null || break
  done
  if ((status == 0 && code != 0)); then status=$code; fi
done
exit "$status"
