#!/usr/bin/env bash
# One-command install of the fdsr_mm environment (torch 2.14.1, mmcv 2.1.0 with compiled ops,
# mmengine, mmdet 3.3.0, mmagic 1.2.0, openmim, pycocotools, piq, fdsr_mm itself).
#
#   bash tools/install.sh            # create or reuse the shared environment, (re)make ./.venv
#
# Two layers:
#  * the SHARED environment, outside the clone, in $FDSR_MM_HOME/envs/<key> (default
#    FDSR_MM_HOME=~/.cache/fdsr_mm), keyed by the pin files: torch, mmcv, mmdet, ... but no
#    fdsr_mm. Every clone on a machine reuses it; it is not changed once complete (but for the
#    removal of an fdsr_mm that an older install.sh put into it). The built mmcv
#    wheel is cached in $FDSR_MM_HOME/wheels/<torch version>-<build fix>-<ops>/, so a rebuilt
#    environment takes minutes instead of the ~25 minute mmcv compile;
#  * the clone's own LAYER, ./.venv: a small venv whose site-packages has a .pth file that adds the
#    shared environment's site-packages, plus a development install of THIS clone's fdsr_mm and
#    the shared environment's console scripts (mim, torchrun, pip, ...) rewritten to run the
#    layer's python. `python`, `mim` and the tools of a clone therefore always run its own code,
#    whichever clone ran install.sh last. `pip install` in an activated .venv installs into the
#    layer and never changes the shared environment.
#
# Options (environment variables):
#   FDSR_MM_HOME=DIR        where environments and the mmcv wheel cache live
#   FDSR_MM_PYTHON=EXE      the Python 3.11 interpreter to build the venv from (default python3)
#   FDSR_MM_REUSE_ONLY=1    never build the shared environment: exit with code 3 if no complete
#                           one exists for these pins (the layer is made in seconds otherwise)
#   FORCE_CUDA=1            build mmcv's CUDA ops (GPU clusters; needs nvcc matching torch's CUDA)
#   MAX_JOBS=N              parallel compile jobs for mmcv (default: number of cores)
#
# Any failing step stops the script with a message naming the step and what to do; a shared
# environment that did not finish is never reused (it is rebuilt on the next run). Rerunning the
# script is safe: with a complete shared environment it only refreshes ./.venv (seconds).
set -Eeuo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO_ROOT"

FDSR_MM_HOME="${FDSR_MM_HOME:-$HOME/.cache/fdsr_mm}"
PYTHON="${FDSR_MM_PYTHON:-python3}"
REUSE_ONLY="${FDSR_MM_REUSE_ONLY:-0}"
FORCE_CUDA="${FORCE_CUDA:-0}"
export MAX_JOBS="${MAX_JOBS:-$(nproc)}"
MMCV_VERSION=2.1.0
# Bump when the way the shared environment is built changes (not only the pins).
ENV_RECIPE=1
# The fix applied to mmcv's setup.py: torch>=2.14 headers require C++20, mmcv 2.1.0 hard-codes
# -std=c++17 (upstream mmcv#3341).
MMCV_FIX=cxx20
# The clone layer and the file that says it is one (which clone and which shared environment).
LAYER="$REPO_ROOT/.venv"
LAYER_CFG=fdsr_mm-layer.cfg

T0=$(date +%s)
STEP="start"
PHASE="check"
say() { printf '[install %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
fail() {
    printf '\n[install] FAILED at step: %s\n[install] %s\n' "$STEP" "$*" >&2
    exit 1
}
on_error() {
    local rc=$?
    printf '\n[install] FAILED at step "%s" (exit code %s).\n' "$STEP" "$rc" >&2
    if [ "$PHASE" = shared ]; then
        printf '[install] The environment %s is marked incomplete and will be rebuilt on the next run.\n' "${ENV_DIR:-?}" >&2
        printf '[install] Read the output above for the cause; logs of the mmcv build are in %s.\n' "$FDSR_MM_HOME/logs" >&2
    elif [ "$PHASE" = cleanup ]; then
        printf '[install] Could not remove the old fdsr_mm from the shared environment %s (see above).\n' "${ENV_DIR:-?}" >&2
    elif [ "$PHASE" = layer ]; then
        printf '[install] The shared environment %s is complete and was not changed; rerunning\n' "${ENV_DIR:-?}" >&2
        printf '[install] tools/install.sh remakes this clone'"'"'s .venv. Read the output above for the cause.\n' >&2
    else
        printf '[install] Nothing was changed. Read the output above for the cause.\n' >&2
    fi
    exit "$rc"
}
trap on_error ERR
if [ -n "${PYTHONPATH:-}" ]; then
    say "ignoring PYTHONPATH=$PYTHONPATH during the install (it would hide which fdsr_mm is installed)"
    unset PYTHONPATH
fi
# pip, minus the per-package notes about this machine's local mirror folders. Usage: pip_in PYTHON ARGS
pip_in() {
    local py=$1; shift
    "$py" -m pip --disable-pip-version-check "$@" 2>&1 \
        | sed -u "/is ignored: it is neither a file nor a directory/d"
}

# ---------------------------------------------------------------------------------------------
STEP="check python"
command -v "$PYTHON" >/dev/null || fail "'$PYTHON' not found. Install Python 3.11 or set FDSR_MM_PYTHON."
PYVER=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$PYVER" = "3.11" ] || fail "Python $PYVER found; the pinned stack needs Python 3.11 (set FDSR_MM_PYTHON=/path/to/python3.11)."
"$PYTHON" -m venv --help >/dev/null 2>&1 || fail "the venv module is missing (Debian: apt-get install python3-venv)."

KEY=$(cat requirements.txt requirements/*.txt | { cat; echo "recipe=$ENV_RECIPE fix=$MMCV_FIX cuda=$FORCE_CUDA py=$PYVER"; } \
      | sha256sum | cut -c1-12)
ENV_NAME="py${PYVER/./}-$KEY"
ENV_DIR="$FDSR_MM_HOME/envs/$ENV_NAME"
MARKER="$ENV_DIR/.fdsr_mm_complete"
mkdir -p "$FDSR_MM_HOME/envs" "$FDSR_MM_HOME/wheels" "$FDSR_MM_HOME/logs"
say "shared environment: $ENV_DIR"
say "this clone's layer: $LAYER"

# One install.sh at a time per shared environment (two clones installing at once would build it
# twice, or remake it under each other).
if command -v flock >/dev/null; then
    exec 9>"$FDSR_MM_HOME/envs/.$ENV_NAME.lock"
    if ! flock -n 9; then
        say "another tools/install.sh is using this environment: waiting for it to finish"
        flock 9
    fi
fi

PY="$ENV_DIR/bin/python"
if [ -f "$MARKER" ]; then
    say "reusing the complete shared environment built on $(cat "$MARKER")"
else
    if [ "$REUSE_ONLY" = 1 ]; then
        printf '[install] FDSR_MM_REUSE_ONLY=1 and no complete shared environment %s exists: nothing done.\n' "$ENV_DIR" >&2
        printf '[install] Run tools/install.sh without it to build one (~25 min the first time: mmcv compiles).\n' >&2
        exit 3
    fi
    PHASE="shared"
    if [ -d "$ENV_DIR" ]; then
        say "found an unfinished environment (an earlier install stopped part way): removing it"
        rm -rf "$ENV_DIR"
    fi
    STEP="create venv"
    say "creating the shared virtual environment"
    "$PYTHON" -m venv "$ENV_DIR"

    # -----------------------------------------------------------------------------------------
    STEP="build tools (setuptools<80, wheel, ninja)"
    say "$STEP"
    pip_in "$PY" install -q -r requirements/build.txt

    STEP="torch/torchvision"
    say "installing torch 2.14.1 + torchvision 0.29.1 (several GB the first time, ~1-2 min from a local mirror)"
    pip_in "$PY" install -q -r requirements/torch.txt
    TORCH_VERSION=$("$PY" -c 'import torch; print(torch.__version__)')
    "$PY" -c 'import torchvision.ops, torch; torchvision.ops.nms(torch.rand(2, 4), torch.rand(2), 0.5)' \
        || fail "torchvision does not load with torch $TORCH_VERSION (see shared ENVIRONMENT.md)."

    # -----------------------------------------------------------------------------------------
    STEP="mmcv $MMCV_VERSION with compiled ops"
    OPS=cpu; [ "$FORCE_CUDA" = "1" ] && OPS=cuda
    WHEEL_DIR="$FDSR_MM_HOME/wheels/mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$MMCV_FIX-$OPS-py${PYVER/./}"
    WHEEL=$(ls "$WHEEL_DIR"/mmcv-*.whl 2>/dev/null | head -n1 || true)
    if [ -z "$WHEEL" ]; then
        say "no cached mmcv wheel for torch $TORCH_VERSION ($OPS ops): building mmcv $MMCV_VERSION from source."
        say "THIS IS THE LONG STEP: about 15-25 minutes on 2 cores (MAX_JOBS=$MAX_JOBS). Progress every minute."
        BUILD=$(mktemp -d "$FDSR_MM_HOME/logs/mmcv-build.XXXXXX")
        LOG="$FDSR_MM_HOME/logs/mmcv-build-$(date +%Y%m%d-%H%M%S).log"
        "$PY" -m pip --disable-pip-version-check download -q --no-deps --no-binary :all: -d "$BUILD" "mmcv==$MMCV_VERSION"
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
    pip_in "$PY" install -q --no-deps "$WHEEL"

    # -----------------------------------------------------------------------------------------
    STEP="pinned requirements"
    say "installing the pinned requirements (requirements.txt)"
    pip_in "$PY" install -q -r requirements.txt -c requirements/torch.txt -c requirements/build.txt
    STEP="mmdet, mmagic, openmim (--no-deps)"
    say "installing $STEP"
    pip_in "$PY" install -q --no-deps -r requirements/nodeps.txt

    # -----------------------------------------------------------------------------------------
    STEP="shared environment check"
    say "checking the shared environment: import mmdet, mmagic.models, mmcv.ops (nms); mim runs"
    ( cd / && "$PY" - <<'EOF'
import warnings
warnings.filterwarnings('ignore')
import torch, mmcv, mmcv.ops, mmengine, mmdet, mmagic.models, mim  # noqa: F401
from mmcv.ops import nms
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
keep = nms(boxes, torch.tensor([0.9, 0.8]), 0.5)[1]
assert keep.tolist() == [0], keep
EOF
    )
    "$ENV_DIR/bin/mim" --version >/dev/null
    date -u +%Y-%m-%dT%H:%M:%SZ >"$MARKER"
    say "shared environment complete"
    PHASE="check"
fi

SHARED_SITE=$("$PY" -I -c 'import sysconfig; print(sysconfig.get_path("purelib"))')

# ---------------------------------------------------------------------------------------------
PHASE="layer"
STEP="clone layer .venv"
cfg_get() { sed -n "s/^$1 = //p" "$LAYER/$LAYER_CFG" 2>/dev/null | head -n1; }
home_of() { sed -n 's/^home *= *//p' "$1/pyvenv.cfg" 2>/dev/null | head -n1; }
rm -rf "$REPO_ROOT"/.venv.tmp-* "$REPO_ROOT"/.venv.old-*   # left by an interrupted run
WHY=""
if [ -L "$LAYER" ]; then
    WHY="it is an old-style link (to $(readlink "$LAYER")), replaced by this clone's own layer"
elif [ ! -e "$LAYER" ]; then
    WHY="there is none"
elif [ ! -f "$LAYER/$LAYER_CFG" ]; then
    fail "$LAYER exists but is not an fdsr_mm clone layer (no $LAYER_CFG in it). Move it away or delete it, then rerun tools/install.sh."
elif [ "$(cfg_get layer)" != "$LAYER" ]; then
    WHY="it was made for $(cfg_get layer) (a copied or moved clone)"
elif [ "$(cfg_get shared)" != "$ENV_DIR" ]; then
    WHY="it used the shared environment $(cfg_get shared)"
elif [ "$(home_of "$LAYER")" != "$(home_of "$ENV_DIR")" ]; then
    WHY="its base interpreter differs from the shared environment's"
elif ! "$LAYER/bin/python" -I -c '' 2>/dev/null; then
    WHY="its python does not start"
fi

# Point a layer at the shared site-packages and give it the shared console scripts.
# Usage: layer_setup DIR (the layer as it is now; its scripts name $LAYER/bin/python).
layer_setup() {
    "$1/bin/python" -I - "$LAYER" "$ENV_DIR" "$SHARED_SITE" "$MARKER" <<'EOF'
import os
import sys
import sysconfig

layer, shared, shared_site, marker = sys.argv[1:5]
site_dir = sysconfig.get_path('purelib')  # of the layer running this (maybe still a temporary dir)
assert os.path.realpath(site_dir).startswith(os.path.realpath(sys.prefix) + os.sep), site_dir


def write(path, data, mode=0o644):
    tmp = path + '.tmp-install'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


# site.addsitedir, not a bare path line: the shared site's own .pth files are processed too. The
# name sorts after easy-install.pth and __editable__*.pth, so what is installed in the layer (this
# clone's fdsr_mm first) comes before the shared packages on sys.path.
line = ('import os, site, sys; p = %r; site.addsitedir(p); os.path.isfile(%r) or sys.stderr.write('
        '"fdsr_mm .venv: the shared environment %%s is missing or incomplete; rerun '
        'tools/install.sh\\n" %% p)\n' % (shared_site, marker))
write(os.path.join(site_dir, 'zz_fdsr_mm_shared_env.pth'), line.encode())

# Console scripts: the shared ones run the shared python (no fdsr_mm); the layer's run its own.
shared_bin, bin_dir = os.path.join(shared, 'bin'), os.path.join(sys.prefix, 'bin')
exe = os.path.join(layer, 'bin', 'python').encode()
if len(exe) + 2 <= 127 and b' ' not in exe:
    header = b'#!' + exe + b'\n'
else:  # too long for a shebang line: the /bin/sh trampoline pip uses
    header = b'#!/bin/sh\n\'\'\'exec\' "' + exe + b'" "$0" "$@"\n\' \'\'\'\n'
old_exe = os.path.join(shared_bin, 'python').encode()
skip = {'activate', 'activate.csh', 'activate.fish', 'Activate.ps1'}
made = linked = 0
for name in sorted(os.listdir(shared_bin)):
    src, dst = os.path.join(shared_bin, name), os.path.join(bin_dir, name)
    if name in skip or name.startswith('python') or os.path.islink(src) \
            or not os.path.isfile(src) or not os.access(src, os.X_OK):
        continue
    with open(src, 'rb') as f:
        data = f.read()
    lines = data.split(b'\n', 3)
    if lines[0].startswith(b'#!' + old_exe):  # '#!<shared>/bin/python[3[.11]]'
        body = data.split(b'\n', 1)[1]
    elif len(lines) == 4 and lines[0] == b'#!/bin/sh' and lines[1].startswith(b"'''exec'") \
            and old_exe in lines[1] and lines[2] == b"' '''":
        body = lines[3]
    else:  # not a script of the shared python (e.g. the ninja binary): use it as it is
        if os.path.lexists(dst):
            os.remove(dst)
        os.symlink(src, dst)
        linked += 1
        continue
    write(dst, header + body, 0o755)
    made += 1
print(f'  {made} console scripts rewritten for .venv, {linked} executables linked')
EOF
}
develop_install() {
    ( cd / && pip_in "$1/bin/python" install -q --no-deps --no-build-isolation --no-use-pep517 -e "$REPO_ROOT" )
}

if [ -n "$WHY" ]; then
    # Made next to .venv and swapped in at the end, so a clone in use (tests running) is without
    # a working .venv for an instant only.
    say "making this clone's layer .venv: $WHY"
    TMP="$REPO_ROOT/.venv.tmp-$$"
    # The shared env's python makes a venv of its own base interpreter (sys._base_executable).
    "$PY" -m venv --without-pip "$TMP"
    sed -i "s|$TMP|$LAYER|g" "$TMP"/bin/activate "$TMP"/bin/activate.csh "$TMP"/bin/activate.fish "$TMP"/pyvenv.cfg
    printf 'layer = %s\nrepo = %s\nshared = %s\n' "$LAYER" "$REPO_ROOT" "$ENV_DIR" >"$TMP/$LAYER_CFG"
    STEP="layer: link to the shared environment, console scripts"
    layer_setup "$TMP"
    STEP="fdsr_mm (development install into the layer)"
    say "installing fdsr_mm from $REPO_ROOT into .venv (editable, setup.py develop)"
    develop_install "$TMP"
    STEP="swap in the new .venv"
    if [ -L "$LAYER" ]; then
        rm -f "$LAYER"   # the link only, never what it points to
    elif [ -e "$LAYER" ]; then
        mv "$LAYER" "$REPO_ROOT/.venv.old-$$"
    fi
    mv "$TMP" "$LAYER"
    rm -rf "$REPO_ROOT/.venv.old-$$"
else
    say "refreshing this clone's layer .venv"
    STEP="layer: link to the shared environment, console scripts"
    layer_setup "$LAYER"
    STEP="fdsr_mm (development install into the layer)"
    # Redone only when something is off: a reinstall leaves the layer without fdsr_mm for a moment.
    SITE=$("$LAYER/bin/python" -I -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
    EGG_INFO="$REPO_ROOT/fdsr_mm.egg-info/PKG-INFO"
    if [ "$(head -n1 "$SITE/fdsr-mm.egg-link" 2>/dev/null)" = "$REPO_ROOT" ] \
            && grep -qxF "$REPO_ROOT" "$SITE/easy-install.pth" 2>/dev/null \
            && [ -f "$EGG_INFO" ] && [ "$EGG_INFO" -nt setup.cfg ] && [ "$EGG_INFO" -nt setup.py ] \
            && [ "$EGG_INFO" -nt fdsr_mm/version.py ] \
            && [ -e fdsr_mm/.mim/configs ] && [ -e fdsr_mm/.mim/tools ]; then
        say "fdsr_mm from $REPO_ROOT is installed in .venv (development install)"
    else
        say "installing fdsr_mm from $REPO_ROOT into .venv (editable, setup.py develop)"
        develop_install "$LAYER"
    fi
fi

# ---------------------------------------------------------------------------------------------
STEP="import check"
say "checking through .venv: import fdsr_mm (this clone), mmdet, mmagic.models, mmcv.ops; mim finds this clone"
( cd / && "$LAYER/bin/python" - "$REPO_ROOT" <<'EOF'
import os.path as osp
import sys
import warnings
warnings.filterwarnings('ignore')
import torch, mmcv, mmcv.ops, mmengine, mmdet, mmagic.models, fdsr_mm  # noqa: F401
from mim.utils import get_installed_path
from mmcv.ops import nms
repo = osp.realpath(sys.argv[1])
where = osp.realpath(osp.dirname(fdsr_mm.__file__))
assert where == osp.join(repo, 'fdsr_mm'), f'.venv imports fdsr_mm from {where}, not from {repo}'
mim_pkg = osp.realpath(get_installed_path('fdsr_mm'))
assert mim_pkg == where, f'mim finds fdsr_mm in {mim_pkg}, not in {where}'
train = osp.realpath(osp.join(mim_pkg, '.mim', 'tools', 'train.py'))
assert train == osp.join(repo, 'tools', 'train.py'), f'mim train would run {train}'
boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
keep = nms(boxes, torch.tensor([0.9, 0.8]), 0.5)[1]
assert keep.tolist() == [0], keep
print(f'  torch {torch.__version__}, mmengine {mmengine.__version__}, mmcv {mmcv.__version__}, '
      f'mmdet {mmdet.__version__}, fdsr_mm {fdsr_mm.__version__} from {where}')
EOF
)
"$LAYER/bin/mim" --version >/dev/null

# ---------------------------------------------------------------------------------------------
# An install.sh of the earlier design put a development install of the clone that ran it last
# into the shared environment itself: every clone whose .venv was a link to it ran that clone's
# code. Layers are not affected (their own fdsr_mm comes first on sys.path), but the shared
# environment should hold no fdsr_mm: remove such an install when it is this clone's (its layer
# replaces it) or its clone is gone. Another existing clone's is left to that clone's next
# install.sh: its old-style .venv link still runs on it.
PHASE="cleanup"
STEP="old fdsr_mm install in the shared environment"
OLD=$("$PY" -I - "$SHARED_SITE" "$REPO_ROOT" <<'EOF'
import glob
import os
import os.path as osp
import sys

site, repo = sys.argv[1], osp.realpath(sys.argv[2])
for name in ('fdsr-mm.egg-link', 'fdsr_mm.egg-link'):
    link = osp.join(site, name)
    if not osp.isfile(link):
        continue
    with open(link) as f:
        target = osp.normpath(f.readline().strip())
    if osp.realpath(target) != repo and osp.isdir(osp.join(target, 'fdsr_mm')):
        print(f'KEPT {target}')
        continue
    pth = osp.join(site, 'easy-install.pth')
    if osp.isfile(pth):
        with open(pth) as f:
            lines = f.read().splitlines()
        keep = [ln for ln in lines if osp.normpath(ln.strip()) != target]
        with open(pth + '.tmp', 'w') as f:
            f.write(''.join(ln + '\n' for ln in keep))
        os.replace(pth + '.tmp', pth)
    os.remove(link)
    print(f'REMOVED {target}')
for path in glob.glob(osp.join(site, 'fdsr_mm-*')) + glob.glob(osp.join(site, '__editable__*fdsr_mm*')):
    print(f'OTHER {path}')
EOF
)
while read -r what path; do
    case "$what" in
        REMOVED) say "removed the development install of $path that an older install.sh put into the shared environment" ;;
        KEPT) say "NOTE: the shared environment still holds a development install of $path (from an older install.sh);"
              say "      clones whose .venv is a link to the shared environment run that code: run tools/install.sh in $path" ;;
        OTHER) say "NOTE: the shared environment holds $path; this clone's .venv is not affected (its fdsr_mm comes first)" ;;
    esac
done <<<"$OLD"

say "done in $(( $(date +%s) - T0 )) s. Activate with:  source .venv/bin/activate"
