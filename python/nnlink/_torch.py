"""Export a torch.nn.Module / torch.jit.ScriptModule to ONNX for compile().

One compile() call exports the module at that call's input_specs: every
dimension is fixed, which is what compile needs anyway.  Compiling the same
module at another shape exports it again; the parameters keep their names
and bytes across exports, so link() stores them once (the package's tests
check that the weights are shared).  Inputs are named after input_specs'
keys in order (they are the module's positional arguments); the first
output is named "out" unless output_names= is given.  Other keyword
arguments go to torch.onnx.export (e.g. opset_version, default 13).
"""
import warnings

from ._lib import Error


def export(module, specs, path, kwargs):
    try:
        import torch
    except ImportError as e:
        raise Error("compiling a torch module needs PyTorch, which cannot be imported here (%s); "
                    "export it to ONNX elsewhere and pass the file" % e, "unsupported") from None
    import numpy as np
    if not specs:
        raise Error("compiling a torch module needs input_specs: {input name: shape or (shape, dtype)}, "
                    "one per positional argument of forward()")
    args = []
    for name, (dims, dtype) in specs.items():
        dt = np.dtype(dtype) if dtype is not None else np.dtype(np.float32)
        # traced with values of the right kind; compile fixes the shapes
        if dt.kind == "f":
            args.append(torch.rand(dims, dtype=getattr(torch, dt.name)))
        else:
            args.append(torch.zeros(dims, dtype=torch.from_numpy(np.zeros(0, dt)).dtype))
    opts = {"input_names": list(specs), "output_names": ["out"], "opset_version": 13}
    opts.update(kwargs)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # the exporter's notes on shapes it traced as constants: every
            # shape is fixed here anyway, so they only add noise
            warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            torch.onnx.export(module, tuple(args), path, **opts)
    except Exception as e:  # the exporter raises many kinds; name it clearly
        raise Error("torch.onnx.export failed: %s: %s" % (type(e).__name__, e), "unsupported") from None
