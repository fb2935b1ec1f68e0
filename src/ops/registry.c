/*
 * The one op list: the domain tables concatenated.  Lookup is linear over
 * about 150 names (149 today) and happens only at compile and plan-open time.
 */
#include <string.h>

#include "ops/ops.h"

const nnl_op_def *nnl_op_find(const char *name) {
    const nnl_op_def *const tables[] = {nnl_ops_nn,    nnl_ops_math,   nnl_ops_tensor, nnl_ops_quant,
                                        nnl_ops_rnn,   nnl_ops_signal, nnl_ops_image};
    if (!name) return NULL;
    for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
        for (const nnl_op_def *d = tables[t]; d->name; d++)
            if (strcmp(d->name, name) == 0) return d;
    return NULL;
}

bool nnl_op_is_view(const char *name) {
    static const char *const views[] = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"};
    if (!name) return false;
    for (size_t i = 0; i < sizeof views / sizeof *views; i++)
        if (strcmp(views[i], name) == 0) return true;
    return false;
}
