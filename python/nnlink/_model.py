"""Model (an opened .nnl file), Session (one graph, repeated runs), and the
compile / link / load entry points."""
import ctypes
import json
import os
import shutil
import tempfile
import threading
import weakref

import numpy as np

from . import _lib
from ._lib import Error, lib, check, encode, text

# ONNX TensorProto numbering (nnl_dtype) <-> numpy
_NP_OF = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32,
          7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64}
_NNL_OF = {np.dtype(v): k for k, v in _NP_OF.items()}
SHARE_MODES = {"name+content": 0, "content": 1, "none": 2}


def dtype_name(code):
    return text(lib.nnl_dtype_name(code))


def _temp_path(suffix):
    fd, path = tempfile.mkstemp(prefix="nnlink-", suffix=suffix)
    os.close(fd)
    return path


def _remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def tensor_dict(t):
    """{name, dtype, shape} of an nnl_tensor_info, as `nnlink info --json`."""
    return {"name": text(t.name), "dtype": dtype_name(t.dtype), "shape": list(t.dims[:t.rank])}


class Model:
    """An opened .nnl file: one graph (compile) or several (link, load).

    The file is memory-mapped; sessions on it share its weights.  A Model
    made by compile() or link() without path= owns a temporary file, removed
    when the Model is closed or collected.  path: the file; graphs: the
    graph names in file order; link_report: the linker's report (dict) for a
    Model made by link(), else None.
    """

    def __init__(self, path, owned=False, link_report=None):
        self.path = os.fspath(path)
        self.link_report = link_report
        self._sessions = {}
        self._lock = threading.Lock()
        if owned:
            self._unlink = weakref.finalize(self, _remove, self.path)
        self._p = _Plan(self.path)

    @property
    def _plan(self):
        if self._p is None:
            raise Error("%s: the Model is closed" % self.path)
        return self._p.ptr

    # -- description ---------------------------------------------------
    @property
    def graphs(self):
        return [text(lib.nnl_plan_graph_name(self._plan, g)) for g in range(lib.nnl_plan_graph_count(self._plan))]

    @property
    def default_graph(self):
        g = lib.nnl_plan_default_graph(self._plan)
        return text(lib.nnl_plan_graph_name(self._plan, g)) if g >= 0 else None

    def graph_index(self, graph):
        """Index of graph (a name, or None for the only or default graph).
        An unknown name, or None on a multi-graph file without a default,
        raises Error listing the graph names."""
        if graph is not None and not isinstance(graph, str):
            raise Error("graph must be a graph name (str) or None, not %r" % (graph,))
        if graph is None and len(self.graphs) > 1 and self.default_graph is None:
            raise Error("%s holds %d graphs and names no default; choose one with graph=: %s" % (
                self.path, len(self.graphs), ", ".join(self.graphs)), "not_found")
        i = ctypes.c_int()
        check(lib.nnl_plan_find_graph(self._plan, None if graph is None else graph.encode(), ctypes.byref(i)))
        return i.value

    def inputs(self, graph=None):
        """[{name, dtype, shape}] of a graph's inputs."""
        return self._tensors(graph, lib.nnl_plan_input_count, lib.nnl_plan_input_info)

    def outputs(self, graph=None):
        return self._tensors(graph, lib.nnl_plan_output_count, lib.nnl_plan_output_info)

    def _tensors(self, graph, count, info):
        g = graph if isinstance(graph, int) else self.graph_index(graph)
        out = []
        for i in range(count(self._plan, g)):
            t = _lib.TensorInfo()
            check(info(self._plan, g, i, ctypes.byref(t)))
            out.append(tensor_dict(t))
        return out

    def info(self):
        """What `nnlink info FILE --json` prints, as a dict."""
        from ._report import info
        return info(self._plan)

    def verify(self):
        """Check every byte against the file's checksums (Error if damaged)."""
        check(lib.nnl_plan_verify(self._plan))

    def profile(self, graph=None, runs=10, warmup=2, threads=0, inputs=None, all=False):
        """What `nnlink profile FILE [--graph G | --all] --runs R --warmup W
        --threads T --json OUT` writes, as a dict.  inputs: optional
        {name: array}; others are seeded random floats (zeros for
        integers)."""
        from ._report import profile
        return profile(self, graph, runs, warmup, threads, inputs or {}, all)

    # -- running ---------------------------------------------------------
    def session(self, graph=None, threads=0):
        """A Session running one graph (threads=0: every CPU)."""
        return Session(self, graph, threads)

    def run(self, inputs, graph=None, threads=0):
        """Run a graph once: {input name: array} -> {output name: array}.
        Keeps one session per (graph, threads) for the next call."""
        key = (graph, threads)
        with self._lock:
            s = self._sessions.get(key)
            if s is None:
                s = self._sessions[key] = Session(self, graph, threads)
        return s.run(inputs)

    def save(self, path):
        """Copy the file to path (written beside it and renamed, so path is
        either the complete copy or untouched); returns path."""
        path = os.fspath(path)
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=".nnlink-", suffix=".tmp", dir=os.path.dirname(os.path.abspath(path)))
            with os.fdopen(fd, "wb") as out, open(self.path, "rb") as src:
                shutil.copyfileobj(src, out)
            shutil.copymode(self.path, tmp)  # mkstemp made it 0600
            os.replace(tmp, path)
        except OSError as e:
            if tmp:
                _remove(tmp)
            raise Error("cannot write %s: %s" % (path, e.strerror or e), "io") from None
        return path

    def close(self):
        """Free the sessions Model.run kept, the mapping and an owned
        temporary file.  Sessions from session() keep the mapping until
        they are closed too."""
        for s in self._sessions.values():
            s.close()
        self._sessions.clear()
        self._p = None
        if hasattr(self, "_unlink"):
            self._unlink()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "nnlink.Model(%r, %s)" % (self.path, "closed" if self._p is None else "graphs=%r" % self.graphs)


class _Plan:
    """Owns an nnl_plan.  Models and Sessions hold it (a Session never
    holds its Model, so Model.run's cached sessions make no reference
    cycle): the plan is freed after the last session on it."""

    def __init__(self, path):
        ptr = ctypes.c_void_p()
        # inspect: a file for another target or layout version still opens
        # (info() works); its sessions fail with the library's reason.
        check(lib.nnl_plan_open_inspect(encode(path), ctypes.byref(ptr)))
        self.ptr = ptr
        weakref.finalize(self, lib.nnl_plan_free, ptr)


class Session:
    """Scratch memory and threads for one graph of a Model, for repeated
    runs.  Thread safety: run() holds a lock per session, so one session
    used from several threads runs one call at a time (never corrupts);
    for parallel runs give each thread its own session.  The GIL is released
    while the graph runs."""

    def __init__(self, model, graph=None, threads=0):
        if not isinstance(threads, int) or threads < 0:
            raise Error("threads must be an integer >= 0 (0: every CPU), not %r" % (threads,))
        self.path = model.path
        self._p = model._p  # keeps the plan alive for the session
        self.graph_index = model.graph_index(graph)
        self.graph = model.graphs[self.graph_index]
        self.inputs = model.inputs(self.graph_index)
        self.outputs = model.outputs(self.graph_index)
        opts = _lib.SessionOptions(ctypes.sizeof(_lib.SessionOptions), threads)
        s = ctypes.c_void_p()
        check(lib.nnl_session_create(model._plan, self.graph_index, ctypes.byref(opts), ctypes.byref(s)))
        self._s = s
        self._free = weakref.finalize(self, lib.nnl_session_free, s)
        self._lock = threading.Lock()

    def _set_inputs(self, inputs):
        names = [t["name"] for t in self.inputs]
        for name in inputs:
            if name not in names:
                raise Error("graph '%s' has no input '%s' (its inputs: %s)" % (self.graph, name, ", ".join(names)),
                            "not_found")
        for t in self.inputs:
            if t["name"] not in inputs:
                raise Error("input '%s' of graph '%s' was not given (%s %s)" % (
                    t["name"], self.graph, t["dtype"], t["shape"]), "invalid_arg")
            a = np.asarray(inputs[t["name"]])
            try:
                code = _NNL_OF[a.dtype]
            except KeyError:
                raise Error("input '%s' of graph '%s' is %s, but %s data was given" % (
                    t["name"], self.graph, t["dtype"], a.dtype), "shape") from None
            a = np.ascontiguousarray(a)  # copies only a non-contiguous array
            dims = (ctypes.c_int64 * max(a.ndim, 1))(*a.shape)
            # the library checks dtype and shape against the compiled ones
            check(lib.nnl_session_set_input(self._s, t["name"].encode(), code, a.ndim, dims,
                                            a.ctypes.data_as(ctypes.c_void_p)))

    def _take_outputs(self):
        out = {}
        for i in range(len(self.outputs)):
            t, data = _lib.TensorInfo(), ctypes.c_void_p()
            check(lib.nnl_session_output(self._s, i, ctypes.byref(t), ctypes.byref(data)))
            a = np.empty(tuple(t.dims[:t.rank]), dtype=_NP_OF[t.dtype])
            if a.nbytes:
                ctypes.memmove(a.ctypes.data, data, a.nbytes)
            out[text(t.name)] = a
        return out

    def run(self, inputs):
        """{input name: array} -> {output name: array owned by the caller}.
        Every input must be given with the compiled dtype and shape."""
        if not isinstance(inputs, dict):
            raise Error("inputs must be a dict {name: numpy array}, not %s" % type(inputs).__name__)
        with self._lock:
            if not self._free.alive:
                raise Error("session of graph '%s' is closed" % self.graph)
            self._set_inputs(inputs)
            check(lib.nnl_session_run(self._s))  # ctypes drops the GIL here
            return self._take_outputs()

    def close(self):
        with self._lock:
            self._free()
            self._p = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "nnlink.Session(%r, graph=%r)" % (self.path, self.graph)


def load(path):
    """Open an existing .nnl file."""
    if not os.path.exists(path):
        raise Error("cannot open %s: no such file" % os.fspath(path), "io")
    return Model(path)


def _parse_spec(name, spec):
    """A shape, or (shape, dtype) as in qai_hub -> (dims tuple, numpy dtype or None)."""
    dtype = None
    if (isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[0], (tuple, list))
            and not isinstance(spec[1], (tuple, list))):
        spec, dtype = spec
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise Error("input_specs['%s']: unknown dtype %r" % (name, dtype)) from None
    if (not isinstance(spec, (tuple, list)) or len(spec) > _lib.MAX_RANK
            or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in spec)):
        raise Error("input_specs['%s'] must be a shape (a tuple of up to %d integers >= 0) or (shape, dtype), not %r"
                    % (name, _lib.MAX_RANK, spec))
    return tuple(int(d) for d in spec), dtype


def _is_torch_module(obj):
    for cls in type(obj).__mro__:
        if cls.__module__.startswith("torch") and cls.__name__ in ("Module", "ScriptModule"):
            return True
    return False


def onnx_source(model, specs, export_kwargs, verb):
    """(path of the ONNX file to read, temp file to remove or None) for a
    model given as a path, ONNX bytes or a torch module (exported at specs'
    shapes)."""
    if _is_torch_module(model):
        from ._torch import export
        tmp = _temp_path(".onnx")
        try:
            export(model, specs, tmp, export_kwargs)
        except BaseException:
            _remove(tmp)
            raise
        return tmp, tmp
    if export_kwargs:
        raise Error("unexpected arguments %s (torch.onnx.export options apply to torch modules only)"
                    % ", ".join(sorted(export_kwargs)))
    if isinstance(model, (bytes, bytearray, memoryview)):
        tmp = _temp_path(".onnx")
        with open(tmp, "wb") as f:
            f.write(model)
        return tmp, tmp
    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model), None
    raise Error("%s takes an ONNX file path, ONNX bytes or a torch.nn.Module, not %s" % (verb, type(model).__name__))


def input_shapes(specs):
    """nnl_input_shape array of parsed specs {name: (dims, dtype)}; the
    encoded names live as long as the array (its _keep attribute)."""
    arr = (_lib.InputShape * max(len(specs), 1))()
    arr._keep = [name.encode() for name in specs]
    for k, (dims, _) in enumerate(specs.values()):
        arr[k].name, arr[k].rank = arr._keep[k], len(dims)
        arr[k].dims[:len(dims)] = dims
    return arr


def write_from_onnx(model, specs, export_kwargs, verb, path, suffix, call):
    """call(onnx path, output path) on the model's ONNX file (see
    onnx_source), writing to path or, when path is None, a new temp file
    with this suffix; its result is returned.  On failure no output is left
    and the message names what the caller gave, not our temp files."""
    out = os.fspath(path) if path is not None else _temp_path(suffix)
    tmp_onnx = None
    try:
        onnx_path, tmp_onnx = onnx_source(model, specs, export_kwargs, verb)
        try:
            return call(onnx_path, out)
        except Error as e:
            raise renamed(e, model, tmp_onnx) from None
    except BaseException:
        if path is None:
            _remove(out)
        raise
    finally:
        if tmp_onnx:
            _remove(tmp_onnx)


def renamed(e, model, tmp_onnx):
    """e with our temp file's name replaced by what the caller gave."""
    if not tmp_onnx:
        return e
    what = "ONNX bytes" if isinstance(model, (bytes, bytearray, memoryview)) else "the exported model"
    return Error(str(e).replace(tmp_onnx, what), e.status)


def compile(model, input_specs=None, graph=None, path=None, winograd=False, weights="fp32", **export_kwargs):
    """Compile a model into a single-graph .nnl and return its Model.

    model: an ONNX file path, ONNX bytes, or a torch.nn.Module /
    torch.jit.ScriptModule (exported by torch.onnx.export at the shapes of
    input_specs, see nnlink._torch).  input_specs: {input name: shape or
    (shape, dtype)}; every dynamic input dimension must be fixed here.
    graph: the graph's name (default "main").  path: where to write the
    file (default: a temporary file the Model owns).  weights: "fp32"
    (default), "fp16" (Conv/Gemm/MatMul weights stored as float16 but for
    the first tenth of their bytes in execution order, computed in
    float32) or "fp16-all" (every such weight), as `nnlink compile
    --weights`.  export_kwargs go to
    torch.onnx.export (torch modules only)."""
    if weights not in _lib.WEIGHTS:
        raise Error("weights must be one of %s, not %r" % (", ".join(map(repr, _lib.WEIGHTS)), weights),
                    "invalid_arg")
    specs = {}
    for name, spec in (input_specs or {}).items():
        specs[name] = _parse_spec(name, spec)
    arr = input_shapes(specs)
    opts = _lib.CompileOptions(ctypes.sizeof(_lib.CompileOptions), encode(graph), arr, len(specs),
                               1 if winograd else 0, _lib.WEIGHTS[weights])

    def call(onnx_path, out):
        check(lib.nnl_compile_file(encode(onnx_path), encode(out), ctypes.byref(opts)))
        return Model(out, owned=path is None)

    m = write_from_onnx(model, specs, export_kwargs, "compile", path, ".nnl", call)
    # the C API takes shapes only; a dtype given in a spec is checked here
    for t in m.inputs():
        want = specs.get(t["name"], (None, None))[1]
        if want is not None and np.dtype(_NP_OF[nnl_dtype_of_name(t["dtype"])]) != want:
            raise Error("input_specs['%s'] asks for %s, but the model's input is %s" % (t["name"], want, t["dtype"]),
                        "shape")
    return m


def nnl_dtype_of_name(name):
    for code in _NP_OF:
        if dtype_name(code) == name:
            return code
    raise Error("unknown dtype name %r" % name)


def link(models, path=None, share="name+content", default=None):
    """Link compiled files (Model objects or paths) into one file holding
    every graph; weights are stored once when shared (share: "name+content",
    "content" or "none").  An item may be (model, new_name) to rename a
    single-graph input's graph, or (model, old_name, new_name).  default:
    the graph run()/profile() use without graph=.  path: the output file
    (default: a temporary file the Model owns).  The Model's link_report is
    what `nnlink link --report` writes."""
    if share not in SHARE_MODES:
        raise Error("share must be one of %s, not %r" % (", ".join(SHARE_MODES), share))
    if isinstance(models, (str, os.PathLike, Model)) or not models:
        raise Error("link takes a non-empty list of Models or .nnl paths")
    items, keep = [], []
    for m in models:
        rename = ()
        if isinstance(m, tuple):
            m, rename = m[0], m[1:]
            if len(rename) not in (1, 2) or not all(isinstance(r, str) for r in rename):
                raise Error("a link input is a Model or path, (model, new_name) or (model, old_name, new_name)")
        p = m.path if isinstance(m, Model) else os.fspath(m)
        keep.append(m)
        frm, to = (None, rename[0]) if len(rename) == 1 else (rename or (None, None))
        items.append(_lib.LinkInput(encode(p), encode(frm), encode(to)))
    arr = (_lib.LinkInput * len(items))(*items)
    report = _temp_path(".json")
    out = os.fspath(path) if path is not None else _temp_path(".nnl")
    try:
        opts = _lib.LinkOptions(ctypes.sizeof(_lib.LinkOptions), SHARE_MODES[share], encode(default), encode(report))
        summary = _lib.LinkSummary()
        check(lib.nnl_link_files(arr, len(items), encode(out), ctypes.byref(opts), ctypes.byref(summary)))
        with open(report) as f:
            rep = json.load(f)
        return Model(out, owned=path is None, link_report=rep)
    except BaseException:
        if path is None:
            _remove(out)
        raise
    finally:
        _remove(report)
