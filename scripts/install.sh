#!/usr/bin/env bash
# One-step set-up on a fresh machine: a virtualenv with the project and its test tools, plus the
# Debian packages the real-browser tests use (Chromium and CJK fonts), when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || true
    apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null \
      || echo "install.sh: could not install chromium/fonts-noto-cjk; browser tests will skip" >&2
  fi
fi

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null 2>&1 || true
# torch is pinned in the 'transformers' extra to the CPU build already on disk.
.venv/bin/pip install -q -e '.[dev,transformers]'
echo "install.sh: ready (.venv)"
