"""compile() from a torch.nn.Module and a torch.jit.ScriptModule, compared
with PyTorch's own output on the same input."""
import numpy as np
import pytest

import nnlink
from conftest import assert_close

torch = pytest.importorskip("torch", reason="PyTorch is not importable here: compile-from-torch tests skipped")


class SegNet(torch.nn.Module):
    """A small FCN-like net: conv + BatchNorm + ReLU, a strided stage, a
    1x1 head and a bilinear upsample back to the input size (which makes the
    export depend on the input shape)."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.BatchNorm2d(16),
                                        torch.nn.ReLU())
        self.down = torch.nn.Sequential(torch.nn.Conv2d(16, 32, 3, stride=2, padding=1), torch.nn.BatchNorm2d(32),
                                        torch.nn.ReLU())
        self.head = torch.nn.Conv2d(32, 5, 1)

    def forward(self, x):
        y = self.head(self.down(self.stem(x)))
        return torch.nn.functional.interpolate(y, size=x.shape[2:], mode="bilinear", align_corners=False)


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    n = SegNet()
    # BatchNorm statistics as training leaves them (not the 0/1 defaults)
    n.train()
    with torch.no_grad():
        for _ in range(3):
            n(torch.randn(4, 3, 32, 32))
    return n.eval()


def reference(n, x):
    with torch.no_grad():
        return n(torch.from_numpy(x)).numpy()


TOL = {"rtol": 1e-3, "atol": 1e-4}


def test_module_landscape_portrait_linked_match_pytorch(net):
    land = nnlink.compile(net, input_specs=dict(image=(1, 3, 32, 48)), graph="landscape")
    port = nnlink.compile(net, input_specs=dict(image=((1, 3, 48, 32), "float32")), graph="portrait")
    linked = nnlink.link([land, port])
    assert linked.graphs == ["landscape", "portrait"]
    # each export keeps the parameters' names and bytes: link stores them once
    info = linked.info()
    assert info["shared_weight_bytes"] > 0.9 * land.info()["weight_bytes"]
    rng = np.random.default_rng(0)
    for g, shape in (("landscape", (1, 3, 32, 48)), ("portrait", (1, 3, 48, 32))):
        x = rng.standard_normal(shape).astype(np.float32)
        got = linked.run({"image": x}, graph=g)
        assert list(got) == ["out"]
        ref = reference(net, x)
        assert np.abs(ref).max() > 0.1  # a test that can fail
        assert_close(got["out"], ref, TOL)


def test_script_module_and_export_options(net):
    traced = torch.jit.trace(net, torch.rand(1, 3, 40, 40))
    m = nnlink.compile(traced, input_specs=dict(x=(2, 3, 40, 40)), output_names=["seg"], opset_version=14)
    assert m.inputs()[0] == {"name": "x", "dtype": "float32", "shape": [2, 3, 40, 40]}
    x = np.random.default_rng(1).standard_normal((2, 3, 40, 40)).astype(np.float32)
    assert_close(m.run({"x": x})["seg"], reference(net, x), TOL)


def test_integer_inputs_from_spec_dtype():
    torch.manual_seed(0)
    emb = torch.nn.Sequential(torch.nn.Embedding(50, 8), torch.nn.Linear(8, 4)).eval()
    m = nnlink.compile(emb, input_specs=dict(ids=((1, 6), "int64")))
    ids = np.array([[1, 7, 3, 49, 0, 12]], np.int64)
    with torch.no_grad():
        ref = emb(torch.from_numpy(ids)).numpy()
    assert_close(m.run({"ids": ids})["out"], ref, TOL)
    with pytest.raises(nnlink.Error, match="is int64, but float32 data was given"):
        m.run({"ids": ids.astype(np.float32)})


def test_torch_errors(net):
    with pytest.raises(nnlink.Error, match="needs input_specs"):
        nnlink.compile(net)
    with pytest.raises(nnlink.Error, match="torch.onnx.export failed"):
        nnlink.compile(net, input_specs=dict(image=(1, 5, 32, 32)))  # 5 channels into a 3-channel conv


def test_quantize_torch_module(net, tmp_path):
    """quantize() exports the module like compile(); the int8 model stays
    close to PyTorch's float output (a 3-conv net: ~1% of its range)."""
    x = np.random.default_rng(1).standard_normal((1, 3, 24, 40)).astype(np.float32)
    samples = np.random.default_rng(2).standard_normal((8, 1, 3, 24, 40)).astype(np.float32)
    s = nnlink.quantize(net, {"image": samples}, tmp_path / "q.onnx", input_specs=dict(image=(1, 3, 24, 40)))
    assert s["weights"] == 3 and s["biases"] == 3
    got = nnlink.compile(s["path"], input_specs=dict(image=x.shape)).run({"image": x})["out"]
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).numpy()
    assert np.abs(got - ref).max() <= 0.05 * np.abs(ref).max()


class Branches(torch.nn.Module):
    """Branches joined by torch.cat the ways networks do: SqueezeNet's fire
    module (two expands of one squeeze), an inception block of four, a cat
    of a cat, a branch read twice (it cannot be placed in the cat), and a
    cat whose output is read by two layers.  The compiler places a branch
    that nothing else reads inside its Concat's output, so the Concat
    copies nothing (passes/arena.c)."""

    def __init__(self):
        super().__init__()
        c = torch.nn.Conv2d
        self.stem = c(3, 16, 3, padding=1)
        self.squeeze = c(16, 8, 1)
        self.e1, self.e3 = c(8, 16, 1), c(8, 16, 3, padding=1)
        self.b = torch.nn.ModuleList([c(32, 8, 1), c(32, 8, 3, padding=1), c(32, 8, 5, padding=2),
                                      torch.nn.Sequential(torch.nn.MaxPool2d(3, 1, 1), c(32, 8, 1))])
        self.p, self.q = c(32, 16, 1), c(32, 16, 3, padding=1)
        self.head = c(80, 5, 1)

    def forward(self, x):
        r = torch.relu
        s = r(self.squeeze(r(self.stem(x))))
        fire = torch.cat([r(self.e1(s)), r(self.e3(s))], 1)
        inc = torch.cat([r(m(fire)) for m in self.b], 1)
        a = r(self.p(inc))
        nested = torch.cat([torch.cat([a, r(self.q(inc))], 1), a], 1)   # a read twice
        return self.head(torch.cat([nested, fire], 1)) + inc.mean()


def test_concat_branches_match_pytorch():
    torch.manual_seed(0)
    n = Branches().eval()
    m = nnlink.compile(n, input_specs=dict(image=(1, 3, 16, 24)))
    x = np.random.default_rng(3).standard_normal((1, 3, 16, 24)).astype(np.float32)
    ref = reference(n, x)
    assert np.abs(ref).max() > 0.1  # a test that can fail
    assert_close(m.run({"image": x})["out"], ref, TOL)
    assert_close(m.run({"image": x}, threads=2)["out"], ref, TOL)
