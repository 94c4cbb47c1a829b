#!/usr/bin/env bash
# Create or refresh .venv/ at the repository root with everything reelforge needs.
# Installs Debian packages first (skipped when present), as root on a fresh Debian machine.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libcairo2-dev libpango1.0-dev pkg-config)   # manim builds pycairo and manimpango against these
APT_PACKAGES+=(melt)   # the MLT engine (Kdenlive's renderer): the interchange tests render .mlt/.kdenlive exports with it
APT_PACKAGES+=(espeak-ng)   # a second, non-piper voice for the speech recognition tests and benchmark
APT_PACKAGES+=(ffmpeg)   # ffprobe: the service tests check downloads with it
APT_PACKAGES+=(chromium chromium-driver)   # the share page is tested in a real browser (selenium)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.reelforge-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ scripts/setup.sh -nt "$stamp" ]; then
  echo "setup: installing reelforge and its dependencies into .venv"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[all,test]"
  touch "$stamp"
fi
