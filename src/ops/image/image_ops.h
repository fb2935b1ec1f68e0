/*
 * Spatial resampling: Resize and Upsample (resize.c), GridSample
 * (grid_sample.c), RoiAlign (roi_align.c).
 */
#ifndef NNL_IMAGE_OPS_H
#define NNL_IMAGE_OPS_H

#include "ops/op_util.h"

NNL_OP_FAMILY(nnl_image_resize);     /* Resize, Upsample */
NNL_OP_FAMILY(nnl_image_gridsample); /* GridSample */
NNL_OP_FAMILY(nnl_image_roialign);   /* RoiAlign */

#endif
