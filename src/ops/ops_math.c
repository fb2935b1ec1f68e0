/* Op list of this module; terminated by an entry with a NULL name. */
#include "ops/math_ops.h"

#define FAMILY(name, f) {name, nnl_math_##f##_infer, nnl_math_##f##_exec}

const nnl_op_def nnl_ops_math[] = {
    /* math_binary.c */
    FAMILY("Add", binary), FAMILY("Sub", binary), FAMILY("Mul", binary),
    FAMILY("Div", binary), FAMILY("Pow", binary), FAMILY("Mod", binary),
    FAMILY("Equal", binary), FAMILY("Less", binary), FAMILY("Greater", binary),
    FAMILY("LessOrEqual", binary), FAMILY("GreaterOrEqual", binary),
    FAMILY("And", binary), FAMILY("Or", binary), FAMILY("Xor", binary),
    FAMILY("BitShift", binary), FAMILY("PRelu", binary),
    FAMILY("Sum", variadic), FAMILY("Mean", variadic), FAMILY("Max", variadic),
    FAMILY("Min", variadic),
    /* math_unary.c */
    FAMILY("Relu", unary), FAMILY("LeakyRelu", unary), FAMILY("Elu", unary),
    FAMILY("Selu", unary), FAMILY("Celu", unary), FAMILY("Sigmoid", unary),
    FAMILY("HardSigmoid", unary), FAMILY("HardSwish", unary), FAMILY("Tanh", unary),
    FAMILY("Exp", unary), FAMILY("Log", unary), FAMILY("Neg", unary), FAMILY("Abs", unary),
    FAMILY("Sqrt", unary), FAMILY("Reciprocal", unary), FAMILY("Erf", unary),
    FAMILY("Floor", unary), FAMILY("Ceil", unary), FAMILY("Round", unary),
    FAMILY("Sign", unary), FAMILY("Sin", unary), FAMILY("Cos", unary), FAMILY("Tan", unary),
    FAMILY("Asin", unary), FAMILY("Acos", unary), FAMILY("Atan", unary),
    FAMILY("Sinh", unary), FAMILY("Cosh", unary), FAMILY("Asinh", unary),
    FAMILY("Acosh", unary), FAMILY("Atanh", unary), FAMILY("Softplus", unary),
    FAMILY("Softsign", unary), FAMILY("Gelu", unary), FAMILY("Mish", unary),
    FAMILY("ThresholdedRelu", unary), FAMILY("Shrink", unary), FAMILY("IsNaN", unary),
    FAMILY("IsInf", unary), FAMILY("Not", unary),
    FAMILY("Clip", clip),
    /* math_softmax.c */
    FAMILY("Softmax", softmax), FAMILY("LogSoftmax", softmax), FAMILY("Hardmax", softmax),
    /* math_reduce.c */
    FAMILY("ReduceSum", reduce), FAMILY("ReduceMean", reduce), FAMILY("ReduceMax", reduce),
    FAMILY("ReduceMin", reduce), FAMILY("ReduceProd", reduce), FAMILY("ReduceL1", reduce),
    FAMILY("ReduceL2", reduce), FAMILY("ReduceSumSquare", reduce),
    FAMILY("ReduceLogSum", reduce), FAMILY("ReduceLogSumExp", reduce),
    FAMILY("ArgMax", argminmax), FAMILY("ArgMin", argminmax),
    FAMILY("CumSum", cumsum),
    /* math_pool.c */
    FAMILY("MaxPool", pool), FAMILY("AveragePool", pool), FAMILY("LpPool", pool),
    FAMILY("GlobalAveragePool", global_pool), FAMILY("GlobalMaxPool", global_pool),
    /* math_resize.c */
    FAMILY("Resize", resize), FAMILY("Upsample", resize),
    /* math_norm.c */
    FAMILY("BatchNormalization", batchnorm),
    FAMILY("InstanceNormalization", instancenorm),
    FAMILY("LayerNormalization", layernorm),
    FAMILY("LpNormalization", lpnorm),
    FAMILY("MeanVarianceNormalization", mvn),
    {0},
};
