/*
 * The cases of bench_kernels: each class at the shapes the networks of
 * issue 10 run it at (ResNet at 224x224, MobileNet v2/v3 and EfficientNet,
 * FCN ResNet-50's dilated layers at 256x384, ViT-B/16 and GPT projections).
 * Field order: class, name, op, c, h, w, oc, k, s, pad, dil, group
 * (kb.h; a GEMM is M = h * w, K = c, N = oc).
 */
#include "kb.h"

#define CONV(cls, name, c, h, w, oc, k, s, pad) {cls, name, NULL, c, h, w, oc, k, s, pad, 1, 1}
#define DW(name, c, h, w, k, s) {"depthwise", name, NULL, c, h, w, c, k, s, (k) / 2, 1, c}
#define MATMUL(cls, name, m, k, n) {cls, name, "MatMul", k, m, 1, n, 0, 1, 0, 1, 1}
#define POOL(name, op, c, h, w, k, s, pad) {"pool", name, op, c, h, w, c, k, s, pad, 1, 1}
#define ELT(name, op, c, h, w) {"eltwise", name, op, c, h, w, c, 0, 1, 0, 1, 1}

const kb_case kb_cases[] = {
    /* the microkernel alone: K = c (the set's K block is 128-256), 256 rows */
    {"ukr", "K 24 (mbv2 1x1 24->144)", NULL, 24, 256, 1, 0, 0, 1, 0, 1, 1},
    {"ukr", "K 128", NULL, 128, 256, 1, 0, 0, 1, 0, 1, 1},
    {"ukr", "K 256", NULL, 256, 256, 1, 0, 0, 1, 0, 1, 1},
    CONV("dense", "resnet stem 7x7/2 3->64 224", 3, 224, 224, 64, 7, 2, 3),
    CONV("dense", "mbv2 stem 3x3/2 3->32 224", 3, 224, 224, 32, 3, 2, 1),
    CONV("dense", "mnasnet stem 3x3/2 3->16 224", 3, 224, 224, 16, 3, 2, 1),
    CONV("dense", "resnet 3x3 64 56x56", 64, 56, 56, 64, 3, 1, 1),
    CONV("dense", "resnet 3x3/2 128 56->28", 128, 56, 56, 128, 3, 2, 1),
    CONV("dense", "resnet 3x3 256 14x14", 256, 14, 14, 256, 3, 1, 1),
    CONV("dense", "resnet 3x3 512 7x7", 512, 7, 7, 512, 3, 1, 1),
    CONV("dense", "squeezenet 3x3 16->64 55x55", 16, 55, 55, 64, 3, 1, 1),
    CONV("dense", "squeezenet 3x3 64->256 13x13", 64, 13, 13, 256, 3, 1, 1),
    {"dense", "regnetx 3x3/2 g2 32 112->56", NULL, 32, 112, 112, 32, 3, 2, 1, 1, 2},
    {"dense", "regnetx 3x3 g25 400 7x7", NULL, 400, 7, 7, 400, 3, 1, 1, 1, 25},
    {"dense", "fcn 3x3 d4 512 32x48", NULL, 512, 32, 48, 512, 3, 1, 4, 4, 1},
    CONV("1x1", "resnet 64->256 56x56", 64, 56, 56, 256, 1, 1, 0),
    CONV("1x1", "resnet 256->64 56x56", 256, 56, 56, 64, 1, 1, 0),
    CONV("1x1", "resnet 128->512 28x28", 128, 28, 28, 512, 1, 1, 0),
    CONV("1x1", "resnet 1024->256 14x14", 1024, 14, 14, 256, 1, 1, 0),
    CONV("1x1", "resnet 2048->512 7x7", 2048, 7, 7, 512, 1, 1, 0),
    CONV("1x1", "resnet 512->2048 7x7", 512, 7, 7, 2048, 1, 1, 0),
    CONV("1x1", "mbv2 24->144 56x56", 24, 56, 56, 144, 1, 1, 0),
    CONV("1x1", "mbv2 144->24 56x56", 144, 56, 56, 24, 1, 1, 0),
    CONV("1x1", "mbv2 32->16 112x112", 32, 112, 112, 16, 1, 1, 0),
    CONV("1x1", "mbv3 16->16 112x112", 16, 112, 112, 16, 1, 1, 0),
    CONV("1x1", "mbv3 16->64 112x112", 16, 112, 112, 64, 1, 1, 0),
    CONV("1x1", "mnasnet 8->24 112x112", 8, 112, 112, 24, 1, 1, 0),
    CONV("1x1", "mbv2 96->576 14x14", 96, 14, 14, 576, 1, 1, 0),
    CONV("1x1", "mbv2 960->160 7x7", 960, 7, 7, 160, 1, 1, 0),
    CONV("1x1", "mbv2 160->960 7x7", 160, 7, 7, 960, 1, 1, 0),
    CONV("1x1", "mbv2 320->1280 7x7", 320, 7, 7, 1280, 1, 1, 0),
    CONV("1x1", "mbv2 64->384 14x14", 64, 14, 14, 384, 1, 1, 0),
    CONV("1x1", "regnetx 400->400 7x7", 400, 7, 7, 400, 1, 1, 0),
    MATMUL("gemm", "vit-b qkv 197x768x2304", 197, 768, 2304),
    MATMUL("gemm", "vit-b fc1 197x768x3072", 197, 768, 3072),
    MATMUL("gemm", "vit-b fc2 197x3072x768", 197, 3072, 768),
    MATMUL("gemm", "prefill 8x768x768", 8, 768, 768),
    /* the compiler records Winograd (nnl_wino_choose) for >= 64 channels
     * and >= 32 tiles: every row is what graphs run */
    CONV("winograd", "resnet 3x3 64 56x56", 64, 56, 56, 64, 3, 1, 1),
    CONV("winograd", "resnet34 3x3 256 28x28", 256, 28, 28, 256, 3, 1, 1),
    {"winograd", "fcn 3x3 d2 256 32x48", NULL, 256, 32, 48, 256, 3, 1, 2, 2, 1},
    {"winograd", "fcn 3x3 d4 512 32x48", NULL, 512, 32, 48, 512, 3, 1, 4, 4, 1},
    DW("mbv2 3x3 32 112x112", 32, 112, 112, 3, 1),
    DW("mbv2 3x3/2 96 112->56", 96, 112, 112, 3, 2),
    DW("mbv2 3x3 144 56x56", 144, 56, 56, 3, 1),
    DW("mbv2 3x3/2 144 56->28", 144, 56, 56, 3, 2),
    DW("mbv2 3x3 384 14x14", 384, 14, 14, 3, 1),
    DW("mbv2 3x3 960 7x7", 960, 7, 7, 3, 1),
    DW("effnet 5x5 240 28x28", 240, 28, 28, 5, 1),
    DW("mbv3 5x5/2 72 56->28", 72, 56, 56, 5, 2),
    MATMUL("gemv", "decode 1x768x3072", 1, 768, 3072),
    MATMUL("gemv", "classifier 1x1280x1000", 1, 1280, 1000),
    POOL("resnet max 3x3/2 64 112", "MaxPool", 64, 112, 112, 3, 2, 1),
    POOL("googlenet max 3x3 480 14x14", "MaxPool", 480, 14, 14, 3, 1, 1),
    POOL("googlenet max 3x3 832 7x7", "MaxPool", 832, 7, 7, 3, 1, 1),
    POOL("squeezenet max 3x3/2 64 111", "MaxPool", 64, 111, 111, 3, 2, 0),
    POOL("densenet avg 2x2/2 256 56", "AveragePool", 256, 56, 56, 2, 2, 0),
    POOL("mbv2 global avg 1280 7x7", "GlobalAveragePool", 1280, 7, 7, 0, 1, 0),
    POOL("mbv3 SE global avg 72 56x56", "GlobalAveragePool", 72, 56, 56, 0, 1, 0),
    ELT("relu 64x112x112", "Relu", 64, 112, 112),
    ELT("hardswish 16x112x112", "HardSwish", 16, 112, 112),
    ELT("sigmoid 144x56x56", "Sigmoid", 144, 56, 56),
    ELT("residual add 256x56x56", "Add", 256, 56, 56),
    {NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0},
};
