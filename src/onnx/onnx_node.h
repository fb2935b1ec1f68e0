/* One decoded NodeProto (internal to the ONNX importer). */
#ifndef NNL_ONNX_NODE_H
#define NNL_ONNX_NODE_H

#include "ir/model.h"
#include "onnx/onnx_internal.h"

/* Every string and attribute is owned (onode_clear frees them).  in[i] or
 * out[i] == "" marks an omitted optional input or output. */
typedef struct onode {
    char *op, *name, *domain;  /* name and domain NULL when absent */
    char **in;
    int n_in;
    char **out;
    int n_out;
    nnl_attr *attrs;
    int n_attrs;
} onode;

/* Decode the node in field nf of the graph that graph reads.  With
 * attrs == false the attributes are skipped (not even validated). */
nnl_status onode_read(const onnx_src *src, pb_reader *graph, const pb_field *nf, bool attrs,
                      onode *n);
void onode_clear(onode *n);
/* Make v the constant a Constant node defines; its value tensor's data
 * moves to the model. */
nnl_status onode_constant(onode *n, nnl_value *v);

#endif
