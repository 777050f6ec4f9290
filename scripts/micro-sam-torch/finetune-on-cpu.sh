#!/usr/bin/env bash
# Fine-tune the micro-SAM for the env's click chains on the CPU (the prompt encoder and mask decoder;
# with --train-encoder the image encoder too), then adopt the result into models/micro-sam and
# re-measure it.
#
#   bash scripts/micro-sam-torch/finetune-on-cpu.sh              # the committed model's recipe
#   SECONDS_TRAIN=600 bash scripts/micro-sam-torch/finetune-on-cpu.sh --label-noise 0
#   bash scripts/micro-sam-torch/finetune-on-cpu.sh --train-encoder --category-loss 0.5   # the encoder too
#
# Needs: this repository after `npm ci`, python3 with torch and numpy. On Debian:
#   apt-get install python3-torch libopenblas0-pthread
# (without an optimised BLAS, Debian's torch falls back to the reference BLAS, about 10x slower).
# Environment: WORK (default .cache/micro-sam-finetune), TRAIN_SCENES (default 12000),
# SECONDS_TRAIN (default 1500), THREADS (default: all cores), PYTHON (default python3), MODEL_DIR
# (default models/micro-sam). Extra arguments go to finetune_clicks.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${WORK:-.cache/micro-sam-finetune}
TRAIN_SCENES=${TRAIN_SCENES:-12000}
PER=2000
mkdir -p "$WORK/scenes"
for i in $(seq 0 $(((TRAIN_SCENES + PER - 1) / PER - 1))); do
  f="$WORK/scenes/train-$i.safetensors"
  [ -f "$f" ] || npx ts-node --transpile-only scripts/dump-synthetic-scenes.ts --split train --start $((i * PER)) --count "$PER" --out "$f"
done
[ -f "$WORK/scenes/val.safetensors" ] || npx ts-node --transpile-only scripts/dump-synthetic-scenes.ts --split val --start 0 --count 300 --out "$WORK/scenes/val.safetensors"
${PYTHON:-python3} -u scripts/micro-sam-torch/finetune_clicks.py --weights "${MODEL_DIR:-models/micro-sam}" \
  --train "$WORK/scenes/train-*.safetensors" --val "$WORK/scenes/val.safetensors" --out "$WORK/out" \
  --seconds "${SECONDS_TRAIN:-1500}" --threads "${THREADS:-$(nproc)}" "$@"
npx ts-node --transpile-only scripts/train-micro-sam.ts --import-finetune "$WORK/out" --out "${MODEL_DIR:-models/micro-sam}" \
  --finetune-command "SECONDS_TRAIN=${SECONDS_TRAIN:-1500} bash scripts/micro-sam-torch/finetune-on-cpu.sh${*:+ $*}"
