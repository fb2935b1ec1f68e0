"""Shared fixtures of the Python package tests.

The package under test is python/nnlink of this tree, on the library
NNLINK_LIBRARY names (tests/run_all.sh points it at $BUILD/libnnlink.so) or
build/libnnlink.so.  NNLINK_BUILD (default build) is where the CLI is: the
info/profile dicts are compared with what it prints.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))
FIX = os.path.join(ROOT, "tests", "fixtures")
BUILD = os.path.join(ROOT, os.environ.get("NNLINK_BUILD", "build"))
CLI = os.path.join(BUILD, "nnlink")

import nnlink  # noqa: E402


def fixture(*parts):
    return os.path.join(FIX, *parts)


def manifest_case(name, case):
    """(inputs, outputs, tolerance) of a case in tests/fixtures/MANIFEST.json:
    PyTorch's own inputs and outputs, saved when the fixture was exported."""
    with open(fixture("MANIFEST.json")) as f:
        m = json.load(f)
    fx = next(x for x in m["fixtures"] if x["name"] == name)
    c = next(x for x in fx["cases"] if x["name"] == case)
    load = lambda items: {t["name"]: np.load(fixture(t["file"])) for t in items}  # noqa: E731
    return load(c["inputs"]), load(c["outputs"]), fx["tolerance"]


def assert_close(got, ref, tol):
    assert got.shape == ref.shape and got.dtype == ref.dtype
    err = np.abs(got.astype(np.float64) - ref)
    limit = tol["atol"] + tol["rtol"] * np.abs(ref)
    assert np.all(err <= limit), "max abs err %.3g (atol %.3g)" % (err.max(), tol["atol"])


def cli(*args, check=True):
    r = subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError("nnlink %s failed: %s" % (" ".join(map(str, args)), r.stderr))
    return r


@pytest.fixture(scope="session")
def tinyseg_pair(tmp_path_factory):
    """The demo pair: tinyseg compiled as landscape and portrait (files in a
    temp dir, so the CLI can read them too)."""
    d = tmp_path_factory.mktemp("tinyseg")
    onnx = fixture("tinyseg", "model.onnx")
    land = nnlink.compile(onnx, input_specs=dict(image=(1, 3, 64, 96)), graph="landscape", path=d / "land.nnl")
    port = nnlink.compile(onnx, input_specs=dict(image=(1, 3, 96, 64)), graph="portrait", path=d / "port.nnl")
    return land, port


@pytest.fixture(scope="session")
def tinyseg_linked(tinyseg_pair, tmp_path_factory):
    d = tmp_path_factory.mktemp("linked")
    return nnlink.link(list(tinyseg_pair), d / "tinyseg.nnl")
