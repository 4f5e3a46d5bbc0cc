#!/usr/bin/env bash
# Set up everything the book needs: system packages (when we may install
# them), a virtual environment with the Python packages, and Fashion-MNIST.
# Safe to run again: each step is skipped when it is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

# Run a command as root: directly when we are root, through sudo when it
# needs no password, otherwise not at all (returns 1).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo "$@"
    else
        return 1
    fi
}

apt_updated=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || return 1
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update -qq || return 1
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# 1. Fashion-MNIST from Debian/Ubuntu's package, when it can be installed.
#    Without root the loader falls back to $FASHION_MNIST_ROOT or a download.
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
    apt_install dataset-fashion-mnist \
        || echo "setup: could not install dataset-fashion-mnist (no root?);" \
                "the data must come from FASHION_MNIST_ROOT or a download"
fi

# Debian's Chromium for the browser tests (Playwright cannot download its own
# browser here). Without it those tests say so and are skipped.
if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium \
        || echo "setup: could not install chromium; browser tests will be skipped"
fi

# npm fetches the scripts the site serves itself (MathJax, require.js, the
# widget manager) from the npm registry; step 5 below.
if ! command -v npm >/dev/null 2>&1; then
    apt_install npm \
        || echo "setup: could not install npm; the book cannot be built without it"
fi

# 2. The virtual environment. Debian's Python needs python3-venv for it.
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        apt_install python3-venv || {
            echo "setup: '$PYTHON -m venv' failed; install python3-venv" >&2
            exit 1
        }
        "$PYTHON" -m venv "$VENV"
    fi
fi

# 3. Python packages, reinstalled only when a requirements file changed.
stamp="$VENV/.requirements-$(cat requirements.txt requirements-dev.txt \
    pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -r requirements-dev.txt -e .
    # The seed's package, for the benchmark only; its own pins (numpy 1.21,
    # matplotlib 3.5...) would downgrade half the stack, so skip them.
    "$VENV/bin/python" -m pip install --quiet --no-deps "d2l==0.17.6"
    rm -f "$VENV"/.requirements-*
    touch "$stamp"
fi

# 4. The data: unpacked, checked and cached where the notebooks find it.
"$VENV/bin/python" -m dropout_utils data

# 5. MathJax, require.js and the widget manager at pinned versions, checked
#    against their pinned SHA-512, into the venv (once per pin); the book
#    serves them from its own _static/ instead of public CDNs.
"$VENV/bin/python" -m dropout_utils vendor
