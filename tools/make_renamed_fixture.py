#!/usr/bin/python3
"""Make tests/fixtures/tinyseg_renamed/model.onnx: tinyseg with every
initializer renamed ("w<N>") but identical values, for the linker's
`--share content` test (identical content under different names).
Needs Debian's python3-onnx."""
import os

import onnx

here = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
m = onnx.load(os.path.join(here, "tinyseg", "model.onnx"))
names = {i.name: "w%d" % k for k, i in enumerate(m.graph.initializer)}
for i in m.graph.initializer:
    i.name = names[i.name]
for n in m.graph.node:
    for k, x in enumerate(n.input):
        if x in names:
            n.input[k] = names[x]
onnx.checker.check_model(m)
os.makedirs(os.path.join(here, "tinyseg_renamed"), exist_ok=True)
onnx.save(m, os.path.join(here, "tinyseg_renamed", "model.onnx"))
print(len(names), "initializers renamed")
