#!/usr/bin/env bash
# Installs the Debian packages nnlink needs to build and test (run as root,
# or with sudo).  python3-pytest runs tests/python, pkg-config its install
# test; PyTorch and torchvision are for tests/python's compile-from-torch
# tests (PyTorch's outputs are their reference) and examples/seed_fcn.py.
# With --torch also onnx, which only the fixture export scripts need.
set -euo pipefail
pkgs=(build-essential libcmocka-dev libjansson-dev python3 python3-numpy python3-pytest pkg-config
      python3-torch python3-torchvision)
[ "${1:-}" = "--torch" ] && pkgs+=(python3-onnx)
missing=()
# "$p:$arch": with a second architecture's copy installed (arm64 for the
# cross build), a bare name is ambiguous to dpkg and looked missing
arch=$(dpkg --print-architecture)
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || dpkg -s "$p:$arch" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q && $SUDO apt-get install -y -q "${missing[@]}"
fi
