#!/usr/bin/env bash
# The comparison behind docs/model-card.md: short runs of each variant on the shared
# photos (synthetic composites), evaluated on the iHarmony4 dev set (never trained on).
# Usage: scripts/compare_defaults.sh [STEPS] [OUT]   (defaults: 800, runs/compare)
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-800}
OUT=${2:-runs/compare}
SHARED=../shared
COMMON=(--photos "$SHARED/data/photos-with-masks" --steps "$STEPS" --batch-size 8
        --eval-data "$SHARED/data/iharmony4-dev" --eval-every 200 --log-every 20
        --save-every 200 --ema 0.99 --no-semantic --workers 2 --seed 0)
ALEX=(--backbone alexnet --normalize
      --backbone-weights "$SHARED/weights/alexnet-features-imagenet.safetensors")
run() {  # name, then flags
  local name=$1; shift
  if [ -f "$OUT/$name/eval.csv" ] && [ -f "$OUT/$name/state.pt" ]; then
    s2crnet train --out "$OUT/$name" --steps "$STEPS" --resume
  else
    s2crnet train --out "$OUT/$name" "${COMMON[@]}" "$@"
  fi
}
run alexnet-softplus-2stage     "${ALEX[@]}" --activation softplus --stages 2 --adv-weight 0
run squeezenet-scratch          --backbone squeezenet1_1 --from-scratch --activation softplus --stages 2 --adv-weight 0
run alexnet-softplus-1stage     "${ALEX[@]}" --activation softplus --stages 1 --adv-weight 0
run alexnet-none-2stage         "${ALEX[@]}" --activation none --stages 2 --adv-weight 0
run alexnet-transfer-only       "${ALEX[@]}" --activation softplus --stages 2 --adv-weight 0 --colour-ops transfer --colour-max-ops 1
run alexnet-global-mild         "${ALEX[@]}" --activation softplus --stages 2 --adv-weight 0 --colour-ops curves,gamma,exposure,white_balance,transfer --colour-strength 0.6
run alexnet-adv                 "${ALEX[@]}" --activation softplus --stages 2 --adv-weight 0.01
