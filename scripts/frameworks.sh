#!/usr/bin/env bash
# The chapter's code in TensorFlow, PaddlePaddle, MindSpore and MXNet: one
# virtual environment and one Jupyter kernel per framework (their pins
# conflict), their layer tests, and their runs.
#
# Usage: scripts/frameworks.sh [STEP...] [FRAMEWORK...]
#   STEP       setup (create .venvs/<name>, register its kernel), test (the
#              layer tests), run (10 epochs per model, writes
#              $FRAMEWORKS_OUT/<name>.json); default: all three
#   FRAMEWORK  tensorflow, paddle, mindspore, mxnet; default: all four
#
# FRAMEWORKS_OUT (default frameworks/results) is where runs write their
# JSON; EPOCHS (default 10) shortens them. Safe to run again: an environment
# is rebuilt only when its requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
MAIN_VENV=${VENV:-.venv}
OUT=${FRAMEWORKS_OUT:-frameworks/results}
EPOCHS=${EPOCHS:-10}
ALL="tensorflow paddle mindspore mxnet"

steps=()
names=()
for arg in "$@"; do
    case "$arg" in
        setup | test | run) steps+=("$arg") ;;
        tensorflow | paddle | mindspore | mxnet) names+=("$arg") ;;
        *)
            echo "frameworks.sh: unknown step or framework '$arg'" \
                "(steps: setup test run; frameworks: $ALL)" >&2
            exit 2
            ;;
    esac
done
[ ${#steps[@]} -gt 0 ] || steps=(setup test run)
[ ${#names[@]} -gt 0 ] || read -r -a names <<<"$ALL"

declare -A TITLE=(
    [tensorflow]=TensorFlow [paddle]=PaddlePaddle
    [mindspore]=MindSpore [mxnet]=MXNet
)

# Quiet TensorFlow's C++ start-up logs; results are unaffected. (MindSpore's
# GLOG_v=3 means "errors only", but Paddle reads GLOG_v as a verbosity level
# and logs every operation, so it is set for MindSpore alone, below.)
export TF_CPP_MIN_LOG_LEVEL=2
export PIP_DISABLE_PIP_VERSION_CHECK=1

has_step() {
    local step
    for step in "${steps[@]}"; do [ "$step" = "$1" ] && return 0; done
    return 1
}

# MXNet's library links to the system's OpenMP and quad-precision maths
# libraries; minimal Debian images may lack them.
mxnet_system_libraries() {
    ldconfig -p | grep -q libquadmath.so.0 && ldconfig -p | grep -q libgomp.so.1 \
        && return 0
    local as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo -n)
    "${as_root[@]}" apt-get update -qq \
        && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq libquadmath0 libgomp1 \
        || echo "frameworks: could not install libquadmath0 and libgomp1;" \
            "MXNet needs them" >&2
}

setup() {
    local name=$1 venv=.venvs/$1 req=frameworks/$1/requirements.txt
    local stamp="$venv/.requirements-$(sha256sum "$req" | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        local start=$SECONDS
        echo "frameworks: creating $venv (${TITLE[$name]})"
        rm -rf "$venv"
        "$PYTHON" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip 2>&1 \
            | grep -v "^WARNING: Location" || true
        # pip's own exit status, not grep's, decides.
        "$venv/bin/python" -m pip install --quiet -r "$req" \
            2> >(grep -v "^WARNING: Location" >&2)
        touch "$stamp"
        echo "frameworks: $venv ready in $((SECONDS - start)) s," \
            "$(du -sh "$venv" | cut -f1) on disk"
    fi
    # Put the repository on the environment's path, so that
    # `import frameworks.<name>.model` works from any folder (a kernel starts
    # in its notebook's folder).
    local site
    site=$("$venv/bin/python" -c \
        "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    echo "$PWD" >"$site/dropout-book.pth"
    # A kernel for each framework, registered where the book's Jupyter (in
    # $MAIN_VENV) finds it. ipykernel warns that the folder is not on its
    # own environment's search path, which is expected.
    if [ -d "$MAIN_VENV" ]; then
        local log
        if ! log=$("$venv/bin/python" -m ipykernel install \
            --prefix "$MAIN_VENV" --name "dropout-$name" \
            --display-name "Python 3 (${TITLE[$name]}, dropout book)" 2>&1); then
            echo "$log" >&2
            return 1
        fi
    fi
}

need_env() {
    if [ ! -x ".venvs/$1/bin/python" ]; then
        echo "frameworks: .venvs/$1 is missing; run scripts/frameworks.sh setup $1" >&2
        exit 1
    fi
}

for name in "${names[@]}"; do
    if has_step setup; then
        [ "$name" != mxnet ] || mxnet_system_libraries
        setup "$name"
    fi
    if has_step test; then
        need_env "$name"
        echo "frameworks: layer tests in ${TITLE[$name]}"
        if [ "$name" = mindspore ]; then export GLOG_v=3; else unset GLOG_v; fi
        ".venvs/$name/bin/python" -m pytest -q -p no:cacheprovider "frameworks/$name"
    fi
    if has_step run; then
        need_env "$name"
        echo "frameworks: running ${TITLE[$name]} ($EPOCHS epochs per model)"
        start=$SECONDS
        if [ "$name" = mindspore ]; then export GLOG_v=3; else unset GLOG_v; fi
        ".venvs/$name/bin/python" -m "frameworks.$name.run" --out "$OUT" \
            --epochs "$EPOCHS"
        echo "frameworks: ${TITLE[$name]} ran in $((SECONDS - start)) s"
    fi
done
