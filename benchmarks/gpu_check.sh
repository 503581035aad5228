#!/usr/bin/env bash
# The GPU check of issue 22, one prepared script for a lent GPU machine (under 8 minutes on one
# H100-class card); on a machine without CUDA it runs the same steps on the CPU at tiny sizes
# (how the suite tests it: tests/test_benchmarks/test_gpu_check.py).
# Numbers on a GPU go to docs/benchmarks/gpu_check_<date>_<card>.md (copy OUT_DIR/README.md).
#
#   bash benchmarks/gpu_check.sh [OUT_DIR]        # default OUT_DIR: work_dirs/gpu_check
#
# Steps, each writing into OUT_DIR, then OUT_DIR/README.md gathers them with the card's name:
#   1. install: FORCE_CUDA=1 bash tools/install.sh (mmcv's CUDA ops); GPU_CHECK_SKIP_INSTALL=1
#      skips it (an environment that is already installed);
#   2. the CUDA-only tests (they skip themselves without CUDA);
#   3. one FDSR step at the paper's batch 8 of 160 px crops: memory and time, float32 / AMP
#      (float16 autocast, what --amp trains with on a GPU), with and without with_cp
#      (benchmarks/bench_memory.py), and forward/step speed float32 / bfloat16 / float16
#      (benchmarks/bench_amp.py);
#   4. the cascade's images/s: D-DBPN x4 (random init) + Faster R-CNN R50-FPN (random init) on
#      synthetic COCO-format images through tools/cascade_eval.py, float32 and --sr-amp float16.
# Random weights cost what trained ones do; no number here is an accuracy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$(pwd)
OUT=${1:-work_dirs/gpu_check}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PY=.venv/bin/python
step() { echo "[gpu_check $(date +%H:%M:%S)] $*"; }

if [ "${GPU_CHECK_SKIP_INSTALL:-0}" != "1" ]; then
    step "install (FORCE_CUDA=1 where nvidia-smi sees a card)"
    if command -v nvidia-smi >/dev/null && nvidia-smi >/dev/null 2>&1; then
        FORCE_CUDA=1 bash tools/install.sh
    else
        bash tools/install.sh
    fi
fi

DEVICE=$("$PY" -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
if [ "$DEVICE" = "cuda" ]; then
    CARD=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)
    BATCH=8 HR=160 AMP=float16 IMAGES=50 SIZE=512 THREADS=4 LR=64 STEP_HR=160
else  # the CPU path: the same steps at sizes that finish in a minute or two
    CARD="no CUDA device: CPU path ($(lscpu | sed -n 's/^Model name: *//p' | head -1))"
    BATCH=1 HR=32 AMP=bfloat16 IMAGES=2 SIZE=64 THREADS=1 LR=8 STEP_HR=32
fi
echo "$CARD" > "$OUT/card.txt"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" \
    >> "$OUT/card.txt"
step "device $DEVICE: $CARD"

step "CUDA-only tests"
# the tests that need CUDA (named *gpu*/*cuda*) skip themselves on a CPU; -rs lists why
"$PY" -m pytest -q -rs -p no:cacheprovider -k "gpu or cuda" \
    tests/test_evaluation/test_image_quality.py tests/test_apis/test_super_resolve.py \
    tests/test_models/test_editors/test_fdsr_amp.py \
    > "$OUT/cuda_tests.txt" 2>&1 || { tail -30 "$OUT/cuda_tests.txt"; exit 1; }
tail -1 "$OUT/cuda_tests.txt"

step "FDSR step: memory and time (batch $BATCH of $HR px)"
OMP_NUM_THREADS=$THREADS "$PY" benchmarks/bench_memory.py --device "$DEVICE" --batch "$BATCH" \
    --hr-size "$HR" --threads "$THREADS" --amp-dtype "$AMP" --out "$OUT/memory.md"
step "AMP speed"
OMP_NUM_THREADS=$THREADS "$PY" benchmarks/bench_amp.py --device "$DEVICE" --threads "$THREADS" \
    --lr-size "$LR" --step-hr-size "$STEP_HR" --out "$OUT/amp.md"

step "cascade: D-DBPN x4 + Faster R-CNN R50-FPN on $IMAGES images of $SIZE px"
DATA="$OUT/data"
[ -f "$DATA/annotations/instances_val.json" ] || \
    "$PY" tools/make_synthetic_coco.py "$DATA" --train 1 --val "$IMAGES" --size "$SIZE" >/dev/null
DET_CFG="$OUT/faster-rcnn_r50_fpn_synthetic-coco.py"
cat > "$DET_CFG" <<EOF
# Faster R-CNN R50-FPN (mmdet's model, random init) on the synthetic COCO-format classes.
_base_ = ['mmdet::_base_/models/faster-rcnn_r50_fpn.py',
          '$REPO/configs/study/_base_/synthetic-coco_detection.py']
model = dict(backbone=dict(init_cfg=None), roi_head=dict(bbox_head=dict(num_classes=5)))
EOF
SR_CFG=configs/dbpn/ddbpn_x4_1xb8-2000k_coco20k.py
"$PY" tools/init_detector_checkpoint.py "$DET_CFG" "$OUT/det_random.pth" --seed 0 >/dev/null
"$PY" tools/init_detector_checkpoint.py "$SR_CFG" "$OUT/ddbpn_random.pth" --seed 0 >/dev/null
for amp in none "$AMP"; do
    extra=(); [ "$amp" != none ] && extra=(--sr-amp "$amp")
    rm -rf "$OUT/cascade_$amp" "$OUT/cache_$amp"
    t0=$(date +%s.%N)
    OMP_NUM_THREADS=$THREADS "$PY" tools/cascade_eval.py "$DET_CFG" "$OUT/det_random.pth" \
        --methods "ddbpn=$SR_CFG:$OUT/ddbpn_random.pth" --out-dir "$OUT/cascade_$amp" \
        --cache-dir "$OUT/cache_$amp" --data-root "$DATA" --ann-file annotations/instances_val.json \
        --img-prefix val/ --iq-metrics psnr --device "$DEVICE" --reference none \
        "${extra[@]}" > "$OUT/cascade_$amp.log" 2>&1 || { tail -30 "$OUT/cascade_$amp.log"; exit 1; }
    t1=$(date +%s.%N)
    "$PY" - "$OUT/cascade_$amp/results.json" "$t0" "$t1" "$amp" >> "$OUT/cascade.md" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))
wall = float(sys.argv[3]) - float(sys.argv[2])
m = res['methods']['ddbpn']
n = res['dataset']['num_evaluated']
print(f"| {sys.argv[4]} | {n} | {wall:.1f} | {n / wall:.2f} | {n / m['sr_seconds']:.2f} | "
      f"{m['iq']['psnr']:.2f} |")
EOF
done
sed -i '1i | SR autocast | images | cascade wall s (all included) | images/s | SR forwards images/s | PSNR (random weights) |\n|---|---|---|---|---|---|' "$OUT/cascade.md"

{
    echo "# GPU check ($(date +%Y-%m-%d))"
    echo
    echo "Card: $CARD"
    echo
    echo "\`bash benchmarks/gpu_check.sh\` on $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')."
    echo
    echo "## CUDA-only tests"; echo; echo "    $(tail -1 "$OUT/cuda_tests.txt")"; echo
    echo "## FDSR step, memory"; echo; cat "$OUT/memory.md"; echo
    echo "## Mixed precision"; echo; cat "$OUT/amp.md"; echo
    echo "## Cascade throughput (D-DBPN x4 + Faster R-CNN R50-FPN, $SIZE px HR images)"; echo
    cat "$OUT/cascade.md"
} > "$OUT/README.md"
step "done: $OUT/README.md"
