#!/usr/bin/env bash
# One-command install of the fdsr_mm environment (torch 2.14.1, mmcv 2.1.0 with compiled ops,
# mmengine, mmdet 3.3.0, mmagic 1.2.0, openmim, pycocotools, piq, fdsr_mm itself).
#
#   bash tools/install.sh            # create or reuse the environment, link it as ./.venv
#
# The environment lives outside the clone, in $FDSR_MM_HOME/envs/<key> (default
# FDSR_MM_HOME=~/.cache/fdsr_mm), keyed by the pin files, so every clone on a machine reuses it.
# The built mmcv wheel is cached in $FDSR_MM_HOME/wheels/<torch version>-<build fix>-<ops>/, so a
# rebuilt environment takes minutes instead of the ~25 minute mmcv compile.
#
# Options (environment variables):
#   FDSR_MM_HOME=DIR     where environments and the mmcv wheel cache live
#   FDSR_MM_PYTHON=EXE   the Python 3.11 interpreter to build the venv from (default python3)
#   FORCE_CUDA=1         build mmcv's CUDA ops (GPU clusters; needs nvcc matching torch's CUDA)
#   MAX_JOBS=N           parallel compile jobs for mmcv (default: number of cores)
#
# Any failing step stops the script with a message naming the step and what to do; an
# environment that did not finish is never reused (it is rebuilt on the next run).
set -Eeuo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

FDSR_MM_HOME="${FDSR_MM_HOME:-$HOME/.cache/fdsr_mm}"
PYTHON="${FDSR_MM_PYTHON:-python3}"
FORCE_CUDA="${FORCE_CUDA:-0}"
export MAX_JOBS="${MAX_JOBS:-$(nproc)}"
MMCV_VERSION=2.1.0
# Bump when the way the environment is built changes (not only the pins).
ENV_RECIPE=1
# The fix applied to mmcv's setup.py: torch>=2.14 headers require C++20, mmcv 2.1.0 hard-codes
# -std=c++17 (upstream mmcv#3341).
MMCV_FIX=cxx20

T0=$(date +%s)
STEP="start"
say() { printf '[install %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
fail() {
    printf '\n[install] FAILED at step: %s\n[install] %s\n' "$STEP" "$*" >&2
    exit 1
}
on_error() {
    local rc=$?
    printf '\n[install] FAILED at step "%s" (exit code %s).\n' "$STEP" "$rc" >&2
    printf '[install] The environment %s is marked incomplete and will be rebuilt on the next run.\n' "${ENV_DIR:-?}" >&2
    printf '[install] Read the output above for the cause; logs of the mmcv build are in %s.\n' "$FDSR_MM_HOME/logs" >&2
    exit "$rc"
}
trap on_error ERR

# ---------------------------------------------------------------------------------------------
STEP="check python"
command -v "$PYTHON" >/dev/null || fail "'$PYTHON' not found. Install Python 3.11 or set FDSR_MM_PYTHON."
PYVER=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$PYVER" = "3.11" ] || fail "Python $PYVER found; the pinned stack needs Python 3.11 (set FDSR_MM_PYTHON=/path/to/python3.11)."
"$PYTHON" -m venv --help >/dev/null 2>&1 || fail "the venv module is missing (Debian: apt-get install python3-venv)."

KEY=$(cat requirements.txt requirements/*.txt | { cat; echo "recipe=$ENV_RECIPE fix=$MMCV_FIX cuda=$FORCE_CUDA py=$PYVER"; } \
      | sha256sum | cut -c1-12)
ENV_DIR="$FDSR_MM_HOME/envs/py${PYVER/./}-$KEY"
MARKER="$ENV_DIR/.fdsr_mm_complete"
mkdir -p "$FDSR_MM_HOME/envs" "$FDSR_MM_HOME/wheels" "$FDSR_MM_HOME/logs"
say "environment: $ENV_DIR"

if [ -f "$MARKER" ]; then
    say "reusing the complete environment built on $(cat "$MARKER")"
    REUSED=1
else
    REUSED=0
    if [ -d "$ENV_DIR" ]; then
        say "found an unfinished environment (an earlier install stopped part way): removing it"
        rm -rf "$ENV_DIR"
    fi
    STEP="create venv"
    say "creating the virtual environment"
    "$PYTHON" -m venv "$ENV_DIR"
fi
PY="$ENV_DIR/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
# pip, minus the per-package notes about this machine's local mirror folders.
pip_install() {
    "${PIP[@]}" install "$@" 2>&1 | sed -u "/is ignored: it is neither a file nor a directory/d"
}
# Anything below failing leaves an environment that must not be reused as is.
rm -f "$MARKER"

# ---------------------------------------------------------------------------------------------
STEP="build tools (setuptools<80, wheel, ninja)"
say "$STEP"
pip_install -q -r requirements/build.txt

STEP="torch/torchvision"
say "installing torch 2.14.1 + torchvision 0.29.1 (several GB the first time, ~1-2 min from a local mirror)"
pip_install -q -r requirements/torch.txt
TORCH_VERSION=$("$PY" -c 'import torch; print(torch.__version__)')
"$PY" -c 'import torchvision.ops, torch; torchvision.ops.nms(torch.rand(2, 4), torch.rand(2), 0.5)' \
    || fail "torchvision does not load with torch $TORCH_VERSION (see shared ENVIRONMENT.md)."

# ---------------------------------------------------------------------------------------------
STEP="mmcv $MMCV_VERSION with compiled ops"
OPS=cpu; [ "$FORCE_CUDA" = "1" ] && OPS=cuda
WHEEL_DIR="$FDSR_MM_HOME/wheels/mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$MMCV_FIX-$OPS-py${PYVER/./}"
if "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" >/dev/null 2>&1; then
    say "mmcv $MMCV_VERSION with ops already installed"
else
    WHEEL=$(ls "$WHEEL_DIR"/mmcv-*.whl 2>/dev/null | head -n1 || true)
    if [ -z "$WHEEL" ]; then
        say "no cached mmcv wheel for torch $TORCH_VERSION ($OPS ops): building mmcv $MMCV_VERSION from source."
        say "THIS IS THE LONG STEP: about 15-25 minutes on 2 cores (MAX_JOBS=$MAX_JOBS). Progress every minute."
        BUILD=$(mktemp -d "$FDSR_MM_HOME/logs/mmcv-build.XXXXXX")
        LOG="$FDSR_MM_HOME/logs/mmcv-build-$(date +%Y%m%d-%H%M%S).log"
        "${PIP[@]}" download -q --no-deps --no-binary :all: -d "$BUILD" "mmcv==$MMCV_VERSION"
        tar -xzf "$BUILD"/mmcv-"$MMCV_VERSION".tar.gz -C "$BUILD"
        SRC="$BUILD/mmcv-$MMCV_VERSION"
        grep -q "'-std=c++17'" "$SRC/setup.py" || fail "mmcv setup.py no longer has '-std=c++17': the C++20 fix needs revisiting."
        sed -i "s/'-std=c++17'/'-std=c++20'/g" "$SRC/setup.py"
        say "building (log: $LOG)"
        ( cd "$SRC" && MMCV_WITH_OPS=1 FORCE_CUDA="$FORCE_CUDA" "$PY" setup.py bdist_wheel -d "$BUILD/dist" ) >"$LOG" 2>&1 &
        BPID=$!
        while kill -0 "$BPID" 2>/dev/null; do
            sleep 60
            PROG=$(grep -oE '^\[[0-9]+/[0-9]+\]' "$LOG" | tail -n1 || true)
            say "mmcv build running: ${PROG:-preparing} (ninja steps done/total)"
        done
        wait "$BPID" || { tail -n 40 "$LOG" >&2; fail "mmcv build failed; full log: $LOG. Check gcc/g++ (C++20) and that torch imports."; }
        BUILT=$(ls "$BUILD"/dist/mmcv-*.whl | head -n1)
        mkdir -p "$WHEEL_DIR"
        # Atomic publish: copy next to the cache, then rename.
        cp "$BUILT" "$WHEEL_DIR/.tmp-$(basename "$BUILT")"
        mv "$WHEEL_DIR/.tmp-$(basename "$BUILT")" "$WHEEL_DIR/$(basename "$BUILT")"
        rm -rf "$BUILD"
        WHEEL="$WHEEL_DIR/$(basename "$BUILT")"
        say "mmcv wheel built and cached: $WHEEL"
    else
        say "using the cached mmcv wheel $WHEEL"
    fi
    pip_install -q --no-deps "$WHEEL"
fi

# ---------------------------------------------------------------------------------------------
STEP="pinned requirements"
say "installing the pinned requirements (requirements.txt)"
pip_install -q -r requirements.txt -c requirements/torch.txt -c requirements/build.txt
STEP="mmdet, mmagic, openmim (--no-deps)"
say "installing $STEP"
pip_install -q --no-deps -r requirements/nodeps.txt

STEP="fdsr_mm"
say "installing fdsr_mm from $REPO_ROOT (editable)"
pip_install -q --no-deps --no-build-isolation --no-use-pep517 -e "$REPO_ROOT"

# ---------------------------------------------------------------------------------------------
STEP="import check"
say "checking: import fdsr_mm, mmdet, mmagic.models, mmcv.ops; mim finds fdsr_mm"
"$PY" - <<'EOF'
import warnings
warnings.filterwarnings('ignore')
import torch, mmcv, mmcv.ops, mmengine, mmdet, mmagic.models, fdsr_mm  # noqa: F401
from mmcv.ops import nms
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
keep = nms(boxes, torch.tensor([0.9, 0.8]), 0.5)[1]
assert keep.tolist() == [0], keep
print(f'  torch {torch.__version__}, mmengine {mmengine.__version__}, mmcv {mmcv.__version__}, '
      f'mmdet {mmdet.__version__}, fdsr_mm {fdsr_mm.__version__}')
EOF
"$ENV_DIR/bin/mim" --version >/dev/null

date -u +%Y-%m-%dT%H:%M:%SZ >"$MARKER"
ln -sfn "$ENV_DIR" "$REPO_ROOT/.venv"
say "done in $(( $(date +%s) - T0 )) s. Activate with:  source .venv/bin/activate"
