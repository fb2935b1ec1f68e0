#!/usr/bin/env bash
# Installs the Debian packages nnlink needs to build and test (run as root,
# or with sudo).  With --torch also PyTorch, torchvision and onnx, which only
# the fixture export scripts need.
set -euo pipefail
pkgs=(build-essential libcmocka-dev libjansson-dev python3 python3-numpy)
[ "${1:-}" = "--torch" ] && pkgs+=(python3-torch python3-torchvision python3-onnx)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q && $SUDO apt-get install -y -q "${missing[@]}"
fi
