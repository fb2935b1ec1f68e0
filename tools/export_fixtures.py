#!/usr/bin/python3
"""Export the small ONNX test fixtures into tests/fixtures/ with PyTorch's
own outputs as references, and merge them into tests/fixtures/MANIFEST.json.

Run with Debian's interpreter (torch 1.13, torchvision 0.14, onnx 1.12):
    /usr/bin/python3 tools/export_fixtures.py [OUTDIR] [--only NAME,...]
OUTDIR defaults to tests/fixtures next to this script's directory.

Weights are random with fixed seeds (pretrained weights cannot be
downloaded); BatchNorm statistics are re-estimated on random batches so the
outputs have unit scale (see fixture_util.reestimate_bn).  Every case input
is drawn from numpy's seeded standard normal generator.

Fixtures:
  tinyseg        FCN-like segmentation net, dynamic H/W, opset 13; cases
                 landscape 1x3x64x96 and portrait 1x3x96x64.  The demo net.
  tinyseg_b      same architecture and initializer names, other seed: a
                 linker must not share its weights with tinyseg's.
  tinyseg_op11   tinyseg's weights exported at opset 11.
  tinyseg_bn     tinyseg's weights exported with BatchNormalization nodes
                 kept (no BN folding, no constant folding).
  twohead_a/_b   one backbone module instance with a segmentation head (a)
                 or a classification head (b): backbone initializers have
                 equal names and values in both files, heads differ.
  mobilenet_v3_small, mobilenet_v2, resnet_tiny, shufflenet_tiny
                 torchvision classifiers
  aspp_tiny      torchvision's DeepLabV3 ASPP (rates 2, 6, 12) on a 12x12
                 map: dilated convs with dead taps.
  vit_tiny                                       small torchvision VisionTransformer
                 at 1x3x64x64, num_classes 10.
  mobilenet_v3_small_op14   the same weights at opset 14 (HardSwish op).
The GPT decoder fixtures are written by tools/gpt_decoder.py.
"""
import argparse
import copy
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from onnx import numpy_helper
from torchvision.models.resnet import BasicBlock, ResNet

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_util as fu  # noqa: E402

NUM_CLASSES = 5
TINYSEG_CASES = {"landscape": (1, 3, 64, 96), "portrait": (1, 3, 96, 64)}


def conv_bn_relu(cin, cout, k, stride=1, dilation=1, relu=True):
    layers = [nn.Conv2d(cin, cout, k, stride=stride,
                        padding=dilation * (k // 2), dilation=dilation,
                        bias=False),
              nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (optionally strided or dilated), 1x1 expand, with a
    projection shortcut when the shape changes."""

    def __init__(self, cin, mid, cout, stride=1, dilation=1):
        super().__init__()
        self.reduce = conv_bn_relu(cin, mid, 1)
        self.spatial = conv_bn_relu(mid, mid, 3, stride=stride,
                                    dilation=dilation)
        self.expand = conv_bn_relu(mid, cout, 1, relu=False)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = conv_bn_relu(cin, cout, 1, stride=stride,
                                         relu=False)

    def forward(self, x):
        y = self.expand(self.spatial(self.reduce(x)))
        s = x if self.shortcut is None else self.shortcut(x)
        return F.relu(y + s)


class Backbone(nn.Module):
    """Stride-2 stem + maxpool (stride 4), a bottleneck at stride 4, a
    strided one (stride 8) and a dilated one (stride 8, dilation 2).
    Returns the stride-4 and stride-8 features."""

    def __init__(self):
        super().__init__()
        self.stem = conv_bn_relu(3, 16, 3, stride=2)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.block1 = Bottleneck(16, 8, 32)
        self.block2 = Bottleneck(32, 16, 64, stride=2)
        self.block3 = Bottleneck(64, 16, 64, dilation=2)

    def forward(self, x):
        s4 = self.block1(self.pool(self.stem(x)))
        s8 = self.block3(self.block2(s4))
        return s4, s8


class SegHead(nn.Module):
    """FCN-style: 1x1 classifiers on both strides, the stride-8 scores
    upsampled x2 (Resize with constant scales) and added to the stride-4
    scores, then bilinearly resized to the input size (Resize with sizes
    computed from the input's Shape)."""

    def __init__(self, classes=NUM_CLASSES):
        super().__init__()
        self.score8 = nn.Conv2d(64, classes, 1)
        self.score4 = nn.Conv2d(32, classes, 1)

    def forward(self, x, s4, s8):
        y = F.interpolate(self.score8(s8), scale_factor=2.0, mode="bilinear",
                          align_corners=False)
        y = y + self.score4(s4)
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear",
                             align_corners=False)


class TinySeg(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.head = SegHead()

    def forward(self, x):
        s4, s8 = self.backbone(x)
        return self.head(x, s4, s8)


class ClsHead(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.fc = nn.Linear(64, classes)

    def forward(self, s8):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(s8, 1), 1))


class TwoHeadA(nn.Module):
    def __init__(self, backbone, head):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x):
        s4, s8 = self.backbone(x)
        return self.head(x, s4, s8)


class TwoHeadB(nn.Module):
    def __init__(self, backbone, head):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x):
        _, s8 = self.backbone(x)
        return self.head(s8)


class NarrowResNet(ResNet):
    """torchvision's ResNet with every stage's width divided by `div`.
    ResNet's constructor hard-codes widths 64..512 (BasicBlock refuses
    width_per_group != 64), so the stage widths are scaled in _make_layer and
    the stem and classifier are rebuilt to match; forward() is torchvision's.
    """

    def __init__(self, block, layers, div=4, num_classes=10):
        self._div = div
        self._first = True
        super().__init__(block, layers, num_classes=num_classes)
        w = 64 // div
        self.conv1 = nn.Conv2d(3, w, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.fc = nn.Linear(512 // div * block.expansion, num_classes)
        nn.init.kaiming_normal_(self.conv1.weight, mode="fan_out",
                                nonlinearity="relu")

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        if self._first:
            self.inplanes = 64 // self._div
            self._first = False
        return super()._make_layer(block, planes // self._div, blocks,
                                   stride, dilate)


def export(model, args, path, input_names, output_names, opset,
           dynamic_axes=None, fold_bn=True):
    """Export in eval mode.  fold_bn=False keeps BatchNormalization nodes
    (TrainingMode.PRESERVE on an eval-mode model, which also skips constant
    folding) to cover exports that were not folded."""
    training = (torch.onnx.TrainingMode.EVAL if fold_bn
                else torch.onnx.TrainingMode.PRESERVE)
    with torch.no_grad():
        torch.onnx.export(model, args, path, input_names=input_names,
                          output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=opset,
                          do_constant_folding=True, training=training)
    if fold_bn:
        fu.name_conv_initializers(path, fu.conv_call_order(model, args))
    return fu.check_onnx(path)


def run_cases(model, root, fdir, cases, input_name, output_name, seed):
    rng = np.random.default_rng(seed)
    recs = []
    for case, shape in cases.items():
        x = fu.rng_normal(rng, shape)
        with torch.no_grad():
            y = model(torch.from_numpy(x)).numpy()
        recs.append(fu.save_case(root, fdir, case, [(input_name, x)],
                                 [(output_name, y)]))
        print("  %-10s %-16s -> %-16s max|ref| %.4g" %
              (case, shape, y.shape, recs[-1]["outputs"][0]["max_abs"]))
    return recs


def fixture_record(name, onnx_rel, model, opset, cases, notes, group=None):
    ins, outs = fu.graph_io_names(model)
    rec = {"name": name, "onnx": onnx_rel, "opset": opset,
           "inputs": ins, "outputs": outs,
           "tolerance": fu.tolerance_for(
               [o for c in cases for o in c["outputs"]]),
           "cases": cases, "ops": fu.op_histogram(model), "notes": notes}
    if group:
        rec["group"] = group
    print("  ops:", fu.op_histogram(model))
    return rec


def make_tinyseg(seed):
    torch.manual_seed(seed)
    m = TinySeg()
    return fu.reestimate_bn(m, fu.normal_batches((4, 3, 64, 96), seed))


def export_tinyseg(root, name, seed, opset, notes, model=None, fold_bn=True,
                   reuse_cases=None):
    """Export one tinyseg fixture.  A variant of an already exported model
    (same weights) passes model= and reuse_cases= (that fixture's case
    records) so its manifest points at the same .npy files."""
    fdir = name
    os.makedirs(os.path.join(root, fdir), exist_ok=True)
    model = model if model is not None else make_tinyseg(seed)
    rel = os.path.join(fdir, "model.onnx")
    print("%s (opset %d)" % (name, opset))
    om = export(model, (torch.zeros(TINYSEG_CASES["landscape"]),),
                os.path.join(root, rel), ["image"], ["out"], opset,
                dynamic_axes={"image": {2: "height", 3: "width"},
                              "out": {2: "height", 3: "width"}},
                fold_bn=fold_bn)
    if reuse_cases is not None:
        cases = copy.deepcopy(reuse_cases)
    else:
        cases = run_cases(model, root, fdir, TINYSEG_CASES, "image", "out",
                          seed=100 + seed)
    return fixture_record(name, rel, om, opset, cases, notes,
                          group="tinyseg"), model


def export_classifier(root, name, model, seed, notes, opset=13,
                      shape=(1, 3, 64, 64), reuse=None):
    """Export a classifier fixture.  reuse=(fixture record) re-exports that
    fixture's already prepared model (passed as model) and shares its
    case files."""
    fdir = name
    os.makedirs(os.path.join(root, fdir), exist_ok=True)
    if reuse is None:
        model = fu.reestimate_bn(model,
                                 fu.normal_batches((4,) + shape[1:], seed))
    rel = os.path.join(fdir, "model.onnx")
    print("%s (opset %d)" % (name, opset))
    om = export(model, (torch.zeros(shape),), os.path.join(root, rel),
                ["image"], ["logits"], opset)
    if reuse is not None:
        cases = copy.deepcopy(reuse["cases"])
    else:
        cases = run_cases(model, root, fdir, {"default": shape}, "image",
                          "logits", seed=100 + seed)
    return fixture_record(name, rel, om, opset, cases, notes)


def reset_linears(model):
    """torchvision initialises MobileNet classifiers with N(0, 0.01), which
    leaves the logits near 0.01; He-normal weights keep the activations'
    scale through the classifier so the logits are near unit scale."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model


def backbone_initializers(path_a, path_b):
    """Initializer names present in both files, split by equal/unequal
    values, plus the names only in one file."""
    a = {i.name: numpy_helper.to_array(i)
         for i in onnx.load(path_a).graph.initializer}
    b = {i.name: numpy_helper.to_array(i)
         for i in onnx.load(path_b).graph.initializer}
    same, differ = [], []
    for n in sorted(set(a) & set(b)):
        eq = a[n].shape == b[n].shape and np.array_equal(a[n], b[n])
        (same if eq else differ).append(n)
    return same, differ, sorted(set(a) - set(b)), sorted(set(b) - set(a))


def export_twohead(root, seed=7):
    fdir = "twohead"
    os.makedirs(os.path.join(root, fdir), exist_ok=True)
    torch.manual_seed(seed)
    backbone = Backbone()
    head_a, head_b = SegHead(), ClsHead()
    ma, mb = TwoHeadA(backbone, head_a), TwoHeadB(backbone, head_b)
    # Estimate the shared backbone's statistics once, through model A; B
    # then reuses the very same module, so both files get equal values.
    fu.reestimate_bn(ma, fu.normal_batches((4, 3, 64, 64), seed))
    mb.eval()
    recs = []
    shape = (1, 3, 64, 64)
    for name, model, out in (("twohead_a", ma, "out"),
                             ("twohead_b", mb, "logits")):
        rel = os.path.join(fdir, name + ".onnx")
        print("%s (opset 13)" % name)
        om = export(model, (torch.zeros(shape),), os.path.join(root, rel),
                    ["image"], [out], 13)
        cases = run_cases(model, root, fdir, {name: shape}, "image", out,
                          seed=100 + seed)
        recs.append(fixture_record(
            name, rel, om, 13, cases,
            "Shares its backbone module with the other twohead file: "
            "backbone initializers have equal names and values; the heads "
            "differ (a: segmentation, b: classification).",
            group="twohead"))
    same, differ, only_a, only_b = backbone_initializers(
        os.path.join(root, fdir, "twohead_a.onnx"),
        os.path.join(root, fdir, "twohead_b.onnx"))
    nbytes = 0
    ma_inits = {i.name: i for i in
                onnx.load(os.path.join(root, fdir,
                                       "twohead_a.onnx")).graph.initializer}
    for n in same:
        nbytes += numpy_helper.to_array(ma_inits[n]).nbytes
    print("  twohead: %d initializers equal in both (%d bytes), %d same name "
          "but different value, %d only in a, %d only in b" %
          (len(same), nbytes, len(differ), len(only_a), len(only_b)))
    if differ:
        print("  same name, different value:", differ)
    # Export fuses each backbone BatchNorm into its conv, so every backbone
    # conv contributes a weight and a bias that must be shared.
    n_backbone_convs = sum(isinstance(m, nn.Conv2d)
                           for m in backbone.modules())
    if len(same) < 2 * n_backbone_convs:
        raise SystemExit("twohead: only %d shared initializers, expected %d"
                         % (len(same), 2 * n_backbone_convs))
    for r in recs:
        r["shared_initializers"] = same
    return recs


def export_vit_tiny(root, seed=6):
    """A small torchvision VisionTransformer (2 layers, width 32) at opset
    13: decomposed LayerNorm, Erf-based GELU, batched MatMul, Softmax,
    class token Concat + Gather.  torch 1.13 takes a fused attention path
    under no_grad that cannot be exported, so the export traces with
    gradients enabled; the head's zero init is replaced (a zero head would
    make every output 0)."""
    from torchvision.models.vision_transformer import VisionTransformer
    torch.manual_seed(seed)
    m = VisionTransformer(image_size=32, patch_size=8, num_layers=2,
                          num_heads=2, hidden_dim=32, mlp_dim=64,
                          num_classes=10).eval()
    nn.init.normal_(m.heads.head.weight, std=0.3)
    name, fdir, shape = "vit_tiny", "vit_tiny", (1, 3, 32, 32)
    os.makedirs(os.path.join(root, fdir), exist_ok=True)
    rel = os.path.join(fdir, "model.onnx")
    print("%s (opset 13)" % name)
    with torch.enable_grad():
        torch.onnx.export(m, (torch.zeros(shape),), os.path.join(root, rel),
                          input_names=["image"], output_names=["logits"],
                          opset_version=13, do_constant_folding=True)
    om = fu.check_onnx(os.path.join(root, rel))
    cases = run_cases(m, root, fdir, {"default": shape}, "image", "logits",
                      seed=100 + seed)
    return fixture_record(name, rel, om, 13, cases,
                          "torchvision VisionTransformer(image_size=32, "
                          "patch_size=8, num_layers=2, num_heads=2, "
                          "hidden_dim=32, mlp_dim=64, num_classes=10).")


class Recurrent(nn.Module):
    """torch's three recurrent layers in a row, batch_first: RNN with tanh
    (bidirectional), RNN with relu, GRU (linear_before_reset=1, as torch
    exports it), two-layer LSTM."""

    def __init__(self, width=8, hidden=12):
        super().__init__()
        self.rnn_tanh = nn.RNN(width, hidden, batch_first=True, bidirectional=True)
        self.rnn_relu = nn.RNN(2 * hidden, hidden, nonlinearity="relu", batch_first=True)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.lstm = nn.LSTM(hidden, hidden, num_layers=2, batch_first=True)

    def forward(self, x):
        x = self.rnn_tanh(x)[0]
        x = self.rnn_relu(x)[0]
        x = self.gru(x)[0]
        return self.lstm(x)[0]


def export_recurrent(root, seed=8):
    """Recurrent layers at opset 14: the RNN nodes carry an `activations`
    list (a STRINGS attribute): ["Tanh", "Tanh"] and ["Relu"]."""
    torch.manual_seed(seed)
    m = Recurrent().eval()
    name, fdir, shape = "recurrent", "recurrent", (2, 7, 8)
    os.makedirs(os.path.join(root, fdir), exist_ok=True)
    rel = os.path.join(fdir, "model.onnx")
    print("%s (opset 14)" % name)
    om = export(m, (torch.zeros(shape),), os.path.join(root, rel), ["x"], ["y"], 14,
                fold_bn=False)
    cases = run_cases(m, root, fdir, {"default": shape}, "x", "y", seed=100 + seed)
    return fixture_record(name, rel, om, 14, cases,
                          "nn.RNN (tanh, bidirectional), nn.RNN (relu), nn.GRU, "
                          "2-layer nn.LSTM in a row: RNN's activations attribute "
                          "is a STRINGS list.")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir", nargs="?",
                    default=os.path.join(here, "..", "tests", "fixtures"))
    ap.add_argument("--only", default="",
                    help="comma-separated fixture groups to export")
    a = ap.parse_args()
    root = os.path.normpath(a.outdir)
    os.makedirs(root, exist_ok=True)
    only = set(filter(None, a.only.split(",")))

    def want(n):
        return not only or n in only

    recs = []
    if want("tinyseg"):
        r, tinyseg = export_tinyseg(
            root, "tinyseg", 0, 13,
            "Demo network: compile as landscape and portrait, link, run.")
        recs.append(r)
        tinyseg_cases = r["cases"]
        r, _ = export_tinyseg(
            root, "tinyseg_op11", 0, 11,
            "tinyseg's weights exported at opset 11 (shares tinyseg's case "
            "files).", model=tinyseg, reuse_cases=tinyseg_cases)
        recs.append(r)
        r, _ = export_tinyseg(
            root, "tinyseg_bn", 0, 13,
            "tinyseg's weights exported without folding BatchNorm into the "
            "convs (BatchNormalization nodes, no constant folding; shares "
            "tinyseg's case files).",
            model=tinyseg, fold_bn=False, reuse_cases=tinyseg_cases)
        recs.append(r)
        r, _ = export_tinyseg(
            root, "tinyseg_b", 1, 13,
            "Same architecture and initializer names as tinyseg, different "
            "seed: no initializer may be shared with tinyseg.")
        recs.append(r)
    if want("twohead"):
        recs += export_twohead(root)
    if want("mobilenet_v3_small"):
        torch.manual_seed(3)
        m = reset_linears(torchvision.models.mobilenet_v3_small(
            width_mult=0.25, num_classes=10))
        r = export_classifier(
            root, "mobilenet_v3_small", m, 3,
            "torchvision mobilenet_v3_small(width_mult=0.25, num_classes=10)"
            " with default Linear init: HardSigmoid, HardSwish as "
            "x*HardSigmoid(x) (opset 13 has no HardSwish), SE blocks, "
            "depthwise convs.")
        recs.append(r)
        recs.append(export_classifier(
            root, "mobilenet_v3_small_op14", m, 3,
            "mobilenet_v3_small's weights at opset 14: HardSwish op "
            "(shares mobilenet_v3_small's case files).", opset=14, reuse=r))
    if want("mobilenet_v2"):
        torch.manual_seed(4)
        recs.append(export_classifier(
            root, "mobilenet_v2",
            torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=10),
            4, "torchvision mobilenet_v2(width_mult=0.25, num_classes=10): "
            "Clip (ReLU6), depthwise convs."))
    if want("resnet_tiny"):
        torch.manual_seed(5)
        recs.append(export_classifier(
            root, "resnet_tiny",
            NarrowResNet(BasicBlock, [1, 1, 1, 1], div=8), 5,
            "torchvision ResNet(BasicBlock, [1,1,1,1]) with widths /8 "
            "(8..64 channels): Gemm, Flatten, GlobalAveragePool, MaxPool, "
            "strided 1x1 downsample convs."))
    if want("shufflenet_tiny"):
        torch.manual_seed(6)
        recs.append(export_classifier(
            root, "shufflenet_tiny",
            reset_linears(torchvision.models.ShuffleNetV2(
                [2, 2, 2], [8, 16, 32, 64, 128], num_classes=10)), 6,
            "torchvision ShuffleNetV2(stages_repeats [2,2,2], channels "
            "[8,16,32,64,128], num_classes=10): channel splits (Slice), "
            "channel shuffles (Reshape, Transpose, Reshape), Concat."))
    if want("aspp_tiny"):
        # torchvision's DeepLabV3 ASPP on a 12x12 map: rate 12 leaves only
        # the centre tap of its 3x3 alive (trimmed at compile time to a 1x1
        # conv), rate 6 a part of every tap (the conv by taps), rate 2 all
        torch.manual_seed(9)
        from torchvision.models.segmentation.deeplabv3 import ASPP
        m = nn.Sequential(conv_bn_relu(3, 16, 3, stride=2),
                          conv_bn_relu(16, 32, 3, stride=2),
                          ASPP(32, [2, 6, 12], 16), nn.Conv2d(16, 5, 1))
        recs.append(export_classifier(
            root, "aspp_tiny", m, 9,
            "Two strided convs, torchvision's DeepLabV3 ASPP(32, [2, 6, 12], "
            "16) and a 1x1 conv at 48x48 (a 12x12 map): dilated 3x3 "
            "convs with dead taps (rate 12: the centre alone; rate 6: part "
            "of every tap), the ASPP's pooling branch and Concat.",
            shape=(1, 3, 48, 48)))
    if want("vit_tiny"):
        recs.append(export_vit_tiny(root))
    if want("recurrent"):
        recs.append(export_recurrent(root))
    fu.update_manifest(os.path.join(root, "MANIFEST.json"), recs)
    print("fixtures directory: %.2f MB" % (fu.dir_size(root) / 1e6))


if __name__ == "__main__":
    main()
