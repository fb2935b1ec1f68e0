"""nnlink.quantize: a float ONNX model (or torch module) and calibration
samples in, a QDQ ONNX model out (nnl_quantize_file, as `nnlink quantize`)."""
import ctypes
import numpy as np

from . import _lib
from ._lib import Error, lib, check, encode
from ._model import _NNL_OF, _parse_spec, input_shapes, write_from_onnx

METHODS = {"minmax": 0, "percentile": 1, "mse": 2}
ACTIVATIONS = {"uint8": 2, "int8": 3}


class CalibInput(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int), ("rank", ctypes.c_int),
                ("dims", ctypes.c_int64 * _lib.MAX_RANK), ("data", ctypes.c_void_p)]


_PROGRESS = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int)


class QuantizeOptions(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("calib", ctypes.POINTER(CalibInput)), ("n_calib", ctypes.c_int),
                ("inputs", ctypes.POINTER(_lib.InputShape)), ("n_inputs", ctypes.c_int),
                ("weights", ctypes.c_int), ("activations", ctypes.c_int), ("method", ctypes.c_int),
                ("percentile", ctypes.c_double), ("progress", _PROGRESS), ("progress_ctx", ctypes.c_void_p),
                ("weight_bits", ctypes.c_int)]


class QuantizeSummary(ctypes.Structure):
    _fields_ = [("activations", ctypes.c_int), ("weights", ctypes.c_int), ("biases", ctypes.c_int),
                ("opset_from", ctypes.c_int64), ("opset_to", ctypes.c_int64)]


lib.nnl_quantize_file.restype = ctypes.c_int
lib.nnl_quantize_file.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(QuantizeOptions),
                                  ctypes.POINTER(QuantizeSummary)]


def _choice(what, value, table):
    if value not in table:
        raise Error("%s must be one of %s, not %r" % (what, ", ".join(sorted(table)), value))
    return table[value]


def _samples(name, x):
    """calibration[name] as a C-contiguous float32 array of N stacked samples."""
    a = np.asarray(x)
    if a.dtype != np.float32 or a.ndim < 1 or a.ndim > _lib.MAX_RANK:
        raise Error("calibration['%s'] must be a float32 array of N stacked samples (N x the input's shape, "
                    "rank <= %d), not %s of rank %d" % (name, _lib.MAX_RANK, a.dtype, a.ndim), "shape")
    return np.ascontiguousarray(a)


def quantize(model, calibration, path=None, method="minmax", activations="uint8", percentile=None,
             input_specs=None, progress=None, weights="int8", **export_kwargs):
    """Quantize a float model into a QDQ ONNX model; returns the summary
    dict (counts of int8 weights, int32 biases, quantized activations,
    opsets) with "path" set to the written file.

    model: an ONNX file path, ONNX bytes or a torch module (exported at
    input_specs' shapes).  calibration: {input name: float32 array of N
    samples stacked on a new leading axis}.  path: the QDQ file to write
    (default: a temporary .onnx the caller then owns).  method: "minmax",
    "percentile" or "mse"; activations: "uint8" or "int8"; weights:
    "int8" or "int7" (within [-64, 64]: `quantize --weights`); input_specs:
    {name: shape} to calibrate at when the samples' shapes are not the
    model's (dynamic dims stay dynamic in the written model).  progress:
    callable(phase, done, total) called after each calibration run."""
    meth = _choice("method", method, METHODS)
    act = _choice("activations", activations, ACTIVATIONS)
    bits = _choice("weights", weights, {"int8": 8, "int7": 7})
    if not isinstance(calibration, dict) or not calibration:
        raise Error("calibration must be a non-empty dict {input name: float32 array of stacked samples}")
    specs = {n: _parse_spec(n, s) for n, s in (input_specs or {}).items()}
    arrays = {n: _samples(n, x) for n, x in calibration.items()}
    calib = (CalibInput * len(arrays))()
    keep = []  # encoded names must outlive the call
    for k, (name, a) in enumerate(arrays.items()):
        keep.append(name.encode())
        calib[k].name, calib[k].dtype, calib[k].rank = keep[-1], _NNL_OF[a.dtype], a.ndim
        calib[k].dims[:a.ndim] = a.shape
        calib[k].data = a.ctypes.data
    shapes = input_shapes(specs)
    cb = _PROGRESS(lambda _c, phase, done, total: progress(phase.decode(), done, total)) if progress else _PROGRESS()
    opts = QuantizeOptions(ctypes.sizeof(QuantizeOptions), calib, len(arrays), shapes, len(specs), 0, act, meth,
                           float(percentile or 0.0), cb, None, bits)
    summary = QuantizeSummary()

    def call(onnx_path, out):
        check(lib.nnl_quantize_file(encode(onnx_path), encode(out), ctypes.byref(opts), ctypes.byref(summary)))
        return out

    out = write_from_onnx(model, specs, export_kwargs, "quantize", path, ".onnx", call)
    return {"path": out, "weights": summary.weights, "biases": summary.biases,
            "activations": summary.activations, "opset_from": summary.opset_from, "opset_to": summary.opset_to}
