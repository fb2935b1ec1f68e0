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

# ---- ARM64 cross build (make TARGET=aarch64 exports NNL_TARGET=aarch64) ----
# The cross compiler, qemu-user to run what it builds, and the arm64 builds
# of libjansson (linked statically into the CLI) and libcmocka (the unit
# tests), installed as Debian multiarch packages.
if [ "${NNL_TARGET:-}" = aarch64 ]; then
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    cross=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libjansson-dev:arm64 libcmocka-dev:arm64)
    missing=()
    for p in "${cross[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
        dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
        $SUDO apt-get update -q && $SUDO apt-get install -y -q "${missing[@]}"
    fi
fi
