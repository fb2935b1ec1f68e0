"""ctypes binding of include/nnlink.h: the library, its structs and calls.

The library is found, in this order, at $NNLINK_LIBRARY, beside the source
tree (build/libnnlink.so next to python/, after `make`), in the library
folder `make install` recorded in _install.py, and by the system loader
(libnnlink.so.0).  ctypes.CDLL releases the GIL around every call, so a graph
running in nnl_session_run does not hold up other Python threads.
"""
import ctypes
import os

MAX_RANK = 8

# nnl_status, in include/nnlink.h order
STATUS_NAMES = ("ok", "invalid_arg", "io", "format", "unsupported", "shape",
                "not_found", "nomem", "mismatch", "internal")


class Error(Exception):
    """Raised by every nnlink call that fails.  str() is the library's
    message (or the Python layer's, for checks made before the library is
    called); .status names the nnl_status ("io", "not_found", ...)."""

    def __init__(self, message, status="invalid_arg"):
        super().__init__(message)
        self.status = status


class InputShape(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("rank", ctypes.c_int),
                ("dims", ctypes.c_int64 * MAX_RANK)]


class CompileOptions(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("graph_name", ctypes.c_char_p),
                ("inputs", ctypes.POINTER(InputShape)), ("n_inputs", ctypes.c_int),
                ("winograd", ctypes.c_int), ("weights", ctypes.c_int)]


# nnl_compile_options.weights (include/nnlink.h)
WEIGHTS = {"fp32": 0, "fp16": 1, "fp16-all": 2}


class TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("rank", ctypes.c_int),
                ("dims", ctypes.c_int64 * MAX_RANK)]


class FileInfo(ctypes.Structure):
    _fields_ = [("format_version", ctypes.c_uint32), ("layout_version", ctypes.c_uint32),
                ("target", ctypes.c_char_p), ("tool_version", ctypes.c_char_p),
                ("open_ms", ctypes.c_double), ("runs_on", ctypes.c_char_p)]


class WeightInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("rank", ctypes.c_int),
                ("dims", ctypes.c_int64 * MAX_RANK), ("layout", ctypes.c_char_p),
                ("bytes", ctypes.c_uint64), ("n_graphs", ctypes.c_int)]


class SessionOptions(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("n_threads", ctypes.c_int)]


class LayerTime(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("op", ctypes.c_char_p), ("ms", ctypes.c_double),
                ("flops", ctypes.c_double), ("thread", ctypes.c_int), ("start_ms", ctypes.c_double)]


class LinkInput(ctypes.Structure):
    _fields_ = [("path", ctypes.c_char_p), ("rename_from", ctypes.c_char_p),
                ("rename_to", ctypes.c_char_p)]


class LinkOptions(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("share", ctypes.c_int),
                ("default_graph", ctypes.c_char_p), ("report_json_path", ctypes.c_char_p)]


class LinkSummary(ctypes.Structure):
    _fields_ = [("graphs", ctypes.c_int), ("weights_in", ctypes.c_int),
                ("weights_stored", ctypes.c_int), ("weights_shared", ctypes.c_int),
                ("bytes_in", ctypes.c_uint64), ("bytes_stored", ctypes.c_uint64),
                ("bytes_saved", ctypes.c_uint64)]


_p = ctypes.c_void_p
_pp = ctypes.POINTER(ctypes.c_void_p)
_i, _s, _d = ctypes.c_int, ctypes.c_char_p, ctypes.c_double

# name: (restype, argtypes); restype ctypes.c_int for nnl_status
_SIGNATURES = {
    "nnl_version": (_s, []),
    "nnl_last_error": (_s, []),
    "nnl_dtype_name": (_s, [_i]),
    "nnl_compile_file": (_i, [_s, _s, ctypes.POINTER(CompileOptions)]),
    "nnl_plan_open": (_i, [_s, _pp]),
    "nnl_plan_open_inspect": (_i, [_s, _pp]),
    "nnl_plan_foreign": (_s, [_p]),
    "nnl_plan_free": (None, [_p]),
    "nnl_plan_verify": (_i, [_p]),
    "nnl_plan_graph_count": (_i, [_p]),
    "nnl_plan_graph_name": (_s, [_p, _i]),
    "nnl_plan_default_graph": (_i, [_p]),
    "nnl_plan_find_graph": (_i, [_p, _s, ctypes.POINTER(_i)]),
    "nnl_plan_input_count": (_i, [_p, _i]),
    "nnl_plan_output_count": (_i, [_p, _i]),
    "nnl_plan_input_info": (_i, [_p, _i, _i, ctypes.POINTER(TensorInfo)]),
    "nnl_plan_output_info": (_i, [_p, _i, _i, ctypes.POINTER(TensorInfo)]),
    "nnl_plan_weight_bytes": (ctypes.c_uint64, [_p, _i]),
    "nnl_plan_arena_bytes": (ctypes.c_uint64, [_p, _i]),
    "nnl_plan_file_info": (_i, [_p, ctypes.POINTER(FileInfo)]),
    "nnl_plan_weight_count": (_i, [_p]),
    "nnl_plan_weight_info": (_i, [_p, _i, ctypes.POINTER(WeightInfo)]),
    "nnl_plan_weight_used_by": (_i, [_p, _i, _i]),
    "nnl_session_create": (_i, [_p, _i, ctypes.POINTER(SessionOptions), _pp]),
    "nnl_session_free": (None, [_p]),
    "nnl_session_set_input": (_i, [_p, _s, _i, _i, ctypes.POINTER(ctypes.c_int64), _p]),
    "nnl_session_run": (_i, [_p]),
    "nnl_session_output": (_i, [_p, _i, ctypes.POINTER(TensorInfo), _pp]),
    "nnl_session_set_profiling": (_i, [_p, _i]),
    "nnl_session_layer_count": (_i, [_p]),
    "nnl_session_layer_time": (_i, [_p, _i, ctypes.POINTER(LayerTime)]),
    "nnl_link_files": (_i, [ctypes.POINTER(LinkInput), _i, _s, ctypes.POINTER(LinkOptions),
                            ctypes.POINTER(LinkSummary)]),
}


def _candidates():
    env = os.environ.get("NNLINK_LIBRARY")
    if env:
        # an explicit choice is the only one: falling back would hide a typo
        return [env]
    found = []
    # the source tree: python/nnlink/ beside include/ and build/
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    if os.path.exists(os.path.join(root, "include", "nnlink.h")):
        found.append(os.path.normpath(os.path.join(root, "build", "libnnlink.so")))
    try:
        from . import _install  # written by `make install`
        found.append(os.path.join(_install.LIBDIR, "libnnlink.so.%d" % _install.SOMAJOR))
    except ImportError:
        pass
    found.append("libnnlink.so.0")  # the system loader's search
    return found


def _load():
    tried = []
    for c in _candidates():
        if os.sep in c and not os.path.exists(c):
            tried.append("%s (missing)" % c)
            continue
        try:
            return ctypes.CDLL(c)
        except OSError as e:
            tried.append("%s (%s)" % (c, e))
    raise ImportError("nnlink: cannot load libnnlink; run `make` in the source tree, `make install`, "
                      "or set NNLINK_LIBRARY to the library's path. Tried: " + "; ".join(tried))


lib = _load()
for _name, (_res, _args) in _SIGNATURES.items():
    _f = getattr(lib, _name)
    _f.restype, _f.argtypes = _res, _args


def text(b):
    return None if b is None else b.decode("utf-8", "replace")


def check(status):
    """Raise Error with the calling thread's library message if status != 0.
    The message is thread-local in the library, and a ctypes call runs on
    the calling Python thread, so it belongs to this call."""
    if status:
        name = STATUS_NAMES[status] if 0 <= status < len(STATUS_NAMES) else str(status)
        raise Error(text(lib.nnl_last_error()), name)


def encode(s):
    return None if s is None else os.fsencode(s)
