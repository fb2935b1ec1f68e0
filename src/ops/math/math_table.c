/* The math domain's op list; terminated by an entry with a NULL name. */
#include "ops/math/math_ops.h"
#include "ops/ops.h"

#define FAMILY(name, f) NNL_OP_ENTRY(name, nnl_math_##f)

const nnl_op_def nnl_ops_math[] = {
    /* binary.c */
    FAMILY("Add", binary), FAMILY("Sub", binary), FAMILY("Mul", binary),
    FAMILY("Div", binary), FAMILY("Pow", binary), FAMILY("Mod", binary),
    FAMILY("Equal", binary), FAMILY("Less", binary), FAMILY("Greater", binary),
    FAMILY("LessOrEqual", binary), FAMILY("GreaterOrEqual", binary),
    FAMILY("And", binary), FAMILY("Or", binary), FAMILY("Xor", binary),
    FAMILY("BitShift", binary), FAMILY("PRelu", binary),
    FAMILY("Sum", variadic), FAMILY("Mean", variadic), FAMILY("Max", variadic),
    FAMILY("Min", variadic),
    /* unary.c */
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
    /* softmax.c */
    FAMILY("Softmax", softmax), FAMILY("LogSoftmax", softmax), FAMILY("Hardmax", softmax),
    /* reduce.c */
    FAMILY("ReduceSum", reduce), FAMILY("ReduceMean", reduce), FAMILY("ReduceMax", reduce),
    FAMILY("ReduceMin", reduce), FAMILY("ReduceProd", reduce), FAMILY("ReduceL1", reduce),
    FAMILY("ReduceL2", reduce), FAMILY("ReduceSumSquare", reduce),
    FAMILY("ReduceLogSum", reduce), FAMILY("ReduceLogSumExp", reduce),
    FAMILY("ArgMax", argminmax), FAMILY("ArgMin", argminmax),
    FAMILY("CumSum", cumsum),
    /* det.c */
    FAMILY("Det", det),
    {0},
};
