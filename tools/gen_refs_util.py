"""Shared by tools/gen_{math,extra,tensor}_refs.py: the C text of reference
cases and the include files the op tests read.

Each generator lists cases (an op call: inputs, attributes, opset and the
outputs numpy or PyTorch computes, independently of the C code) and hands
them to Emitter; write_refs() writes the C arrays to tests/refs/NAME.inc,
which tests/test_ops_NAME.c includes.  Floats are written as hexadecimal
literals, so the C side reads back exactly the values computed here.
"""
import math
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# numpy dtype -> (C element type, nnl_dtype enum)
CTYPE = {
    np.dtype(np.float32): ("float", "NNL_DT_FLOAT"),
    np.dtype(np.float64): ("double", "NNL_DT_DOUBLE"),
    np.dtype(np.float16): ("uint16_t", "NNL_DT_FLOAT16"),
    np.dtype(np.int8): ("int8_t", "NNL_DT_INT8"),
    np.dtype(np.uint8): ("uint8_t", "NNL_DT_UINT8"),
    np.dtype(np.int16): ("int16_t", "NNL_DT_INT16"),
    np.dtype(np.uint16): ("uint16_t", "NNL_DT_UINT16"),
    np.dtype(np.int32): ("int32_t", "NNL_DT_INT32"),
    np.dtype(np.uint32): ("uint32_t", "NNL_DT_UINT32"),
    np.dtype(np.int64): ("int64_t", "NNL_DT_INT64"),
    np.dtype(np.uint64): ("uint64_t", "NNL_DT_UINT64"),
    np.dtype(np.bool_): ("uint8_t", "NNL_DT_BOOL"),
}


class K:
    """A constant input: it carries data at infer time (as shape-like
    inputs do at compile time); the other inputs do not."""

    def __init__(self, a):
        self.a = np.asarray(a)


def c_val(v, dt):
    """One element as a C literal (float16 as its bit pattern)."""
    dt = np.dtype(dt)
    if dt == np.float32 or dt == np.float64:
        f = float(v)
        if math.isnan(f):
            return "NAN"
        if math.isinf(f):
            return "INFINITY" if f > 0 else "-INFINITY"
        return f.hex() + ("f" if dt == np.float32 else "")
    if dt == np.float16:
        return str(int(np.array(v, dtype=np.float16).view(np.uint16)))
    if dt == np.bool_:
        return "1" if v else "0"
    if dt == np.int64:
        iv = int(v)
        return "INT64_MIN" if iv == -2**63 else "INT64_C(%d)" % iv
    if dt == np.uint64:
        return "UINT64_C(%d)" % int(v)
    return str(int(v))


class Emitter:
    """Writes the static arrays of each case into self.lines and returns its
    ref_cases row.  prefix / per_line only shape the text (data arrays are
    named prefix1, prefix2, ...; per_line values on a line); scalars_1d
    writes 0-d arrays as shape [1] (the math cases were made that way)."""

    def __init__(self, prefix="v", per_line=8, scalars_1d=False):
        self.lines, self.k = [], 0
        self.prefix, self.per_line, self.scalars_1d = prefix, per_line, scalars_1d

    def name(self, p):
        self.k += 1
        return "%s%d" % (p, self.k)

    def data(self, a):
        a = np.ascontiguousarray(a)
        if a.size == 0:
            return "NULL"
        ctype, _ = CTYPE[a.dtype]
        nm = self.name(self.prefix)
        vals = [c_val(v, a.dtype) for v in a.reshape(-1)]
        rows = ["    " + ", ".join(vals[i:i + self.per_line]) + "," for i in range(0, len(vals), self.per_line)]
        self.lines.append("static const %s %s[] = {\n%s\n};" % (ctype, nm, "\n".join(rows)))
        return nm

    def tensor(self, a, const):
        if a is None:
            return "{0}"
        a = np.ascontiguousarray(a) if self.scalars_1d else np.asarray(a)
        _, enum = CTYPE[a.dtype]
        dims = ", ".join(str(d) for d in a.shape) or "0"
        return "{%s, %d, {%s}, %s, %d}" % (enum, a.ndim, dims, self.data(a), int(const))

    def attr(self, k, v):
        if isinstance(v, (bool, int, np.integer)):
            return '{.name = "%s", .type = NNL_ATTR_INT, .i = %d}' % (k, int(v))
        if isinstance(v, float):
            return '{.name = "%s", .type = NNL_ATTR_FLOAT, .f = %s}' % (k, c_val(np.float32(v), np.float32))
        if isinstance(v, str):
            return '{.name = "%s", .type = NNL_ATTR_STRING, .s = "%s"}' % (k, v)
        if isinstance(v, np.ndarray):
            t = self.name("t")
            _, enum = CTYPE[v.dtype]
            dims = ", ".join(str(d) for d in v.shape) or "0"
            self.lines.append("static nnl_tensor %s = {.dtype = %s, .rank = %d, .dims = {%s}, "
                              ".data = (void *)%s};" % (t, enum, v.ndim, dims, self.data(v)))
            return '{.name = "%s", .type = NNL_ATTR_TENSOR, .t = &%s}' % (k, t)
        if isinstance(v, list) and all(isinstance(e, (int, np.integer)) for e in v):
            return '{.name = "%s", .type = NNL_ATTR_INTS, .n = %d, .ints = %s}' % (
                k, len(v), self.data(np.array(v, np.int64)))
        if isinstance(v, list):
            return '{.name = "%s", .type = NNL_ATTR_FLOATS, .n = %d, .floats = %s}' % (
                k, len(v), self.data(np.array(v, np.float32)))
        raise ValueError("attribute %s=%r" % (k, v))

    def case(self, c, tail):
        """c: dict(name, op, opset, inputs, outputs, attrs); tail: the C
        text of the row's fields after the outputs (tolerance, status)."""
        ins = [self.tensor(x.a, True) if isinstance(x, K) else self.tensor(x, False) for x in c["inputs"]]
        outs = [self.tensor(o, False) for o in c["outputs"]]
        attrs = [self.attr(k, v) for k, v in c["attrs"].items()]
        p = self.name("c")
        self.lines.append("static const ref_tensor %s_in[] = {%s};" % (p, ", ".join(ins) or "{0}"))
        self.lines.append("static const ref_tensor %s_out[] = {%s};" % (p, ", ".join(outs) or "{0}"))
        self.lines.append("static const nnl_attr %s_attrs[] = {%s};" % (p, ", ".join(attrs) or "{0}"))
        return '    {"%s", "%s", %d, %s_attrs, %d, %s_in, %d, %s_out, %d, %s},' % (
            c["name"], c["op"], c["opset"], p, len(attrs), p, len(ins), p, len(outs), tail)


def write_refs(name, generator, cases, emitter, tail):
    """Write tests/refs/NAME.inc: the arrays of every case and ref_cases[]."""
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    rows = [emitter.case(c, tail(c)) for c in cases]
    path = os.path.join(ROOT, "tests", "refs", name + ".inc")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("/* Generated by tools/%s; do not edit: change the generator and run it. */\n" % generator)
        f.write("\n".join(emitter.lines) + "\nstatic const ref_case ref_cases[] = {\n" + "\n".join(rows) + "\n};\n")
    print("%d cases written to %s" % (len(cases), os.path.relpath(path, ROOT)))
