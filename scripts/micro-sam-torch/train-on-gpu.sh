#!/usr/bin/env bash
# Train the micro-SAM on a CUDA machine with the PyTorch twin of src/sam, then adopt it into
# models/micro-sam and evaluate it with the tfjs model (the authoritative numbers of the card).
#
#   bash scripts/micro-sam-torch/train-on-gpu.sh            # the committed model's recipe
#   SECONDS_TRAIN=900 PROCS=8 bash scripts/micro-sam-torch/train-on-gpu.sh --lr 5e-4
#
# Needs: this repository after `npm ci`, python3 with torch (CUDA), numpy and scipy.
# Environment: WORK (default .cache/micro-sam-gpu), PROCS scene-dump processes (default 14),
# PER scenes per process (default 4000), SECONDS_TRAIN (default 420), PYTHON (default python3),
# MODEL_DIR where the model is adopted (default models/micro-sam). Extra arguments go to train.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-.cache/micro-sam-gpu}
PROCS=${PROCS:-14}
PER=${PER:-4000}
mkdir -p "$WORK/scenes"
npx ts-node --transpile-only scripts/train-micro-sam.ts --print-config > "$WORK/config.json"
T0=$(date +%s)
pids=()
for i in $(seq 0 $((PROCS - 1))); do
  npx ts-node --transpile-only scripts/dump-synthetic-scenes.ts --split train --start $((i * PER)) --count "$PER" --out "$WORK/scenes/train-$i.safetensors" &
  pids+=($!)
done
npx ts-node --transpile-only scripts/dump-synthetic-scenes.ts --split test --start 0 --count 300 --out "$WORK/scenes/test.safetensors" &
pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
echo "dumped $((PROCS * PER)) training scenes in $(($(date +%s) - T0)) s"
${PYTHON:-python3} -u scripts/micro-sam-torch/train.py --config "$WORK/config.json" --train "$WORK/scenes/train-*.safetensors" \
  --test "$WORK/scenes/test.safetensors" --out "$WORK/out" --seconds "${SECONDS_TRAIN:-420}" --eval-scenes 300 "$@"
npx ts-node --transpile-only scripts/train-micro-sam.ts --import-twin "$WORK/out" --out "${MODEL_DIR:-models/micro-sam}"
