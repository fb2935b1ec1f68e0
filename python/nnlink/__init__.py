"""nnlink for Python: compile ONNX files or PyTorch modules per input shape,
link the graphs into one file that stores shared weights once, then
inspect, profile and run them on numpy arrays.

    import nnlink
    land = nnlink.compile("fcn.onnx", input_specs=dict(image=(1, 3, 256, 384)), graph="landscape")
    port = nnlink.compile(torch_model, input_specs=dict(image=(1, 3, 384, 256)), graph="portrait")
    linked = nnlink.link([land, port], "fcn.nnl")
    linked.graphs                                  # ['landscape', 'portrait']
    linked.profile(graph="portrait", runs=10, threads=2)
    linked.run({"image": x}, graph="portrait")     # {'out': numpy.ndarray}
    q = nnlink.quantize("fcn.onnx", {"image": samples}, "fcn.qdq.onnx")  # int8 QDQ ONNX

A thin ctypes layer over libnnlink (include/nnlink.h); every failure raises
nnlink.Error with the library's message.
"""
from ._lib import Error
from ._model import Model, Session, compile, link, load
from ._quant import quantize
from ._lib import lib as _lib_handle

__version__ = _lib_handle.nnl_version().decode()
__all__ = ["Error", "Model", "Session", "compile", "link", "load", "quantize", "__version__"]
