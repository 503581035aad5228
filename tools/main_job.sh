#!/usr/bin/env bash
# The README's main job: install, then run the miniature FDSR study end to end on generated data
# (detectors, SR pre-training and fine-tunes, cascade evaluation, tables and figures). Resumable:
# rerunning skips finished stages. Results: work_dirs/study/report/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/install.sh
.venv/bin/python tools/run_study.py "$@"
echo "[main job] done: tables, plots and summary in work_dirs/study/report/ (summary.md first)"
