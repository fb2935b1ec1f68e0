/* Op list of this module; terminated by an entry with a NULL name. */
#include "core/core.h"

const nnl_op_def nnl_ops_extra[] = {
    {0},
};
