/* The image domain's op list; terminated by an entry with a NULL name. */
#include "ops/image/image_ops.h"
#include "ops/ops.h"

const nnl_op_def nnl_ops_image[] = {
    NNL_OP_ENTRY("Resize", nnl_image_resize),
    NNL_OP_ENTRY("Upsample", nnl_image_resize),
    NNL_OP_ENTRY("GridSample", nnl_image_gridsample),
    NNL_OP_ENTRY("RoiAlign", nnl_image_roialign),
    {0},
};
