/*
 * Private to src/link: the state of one nnl_link_files call, shared by the
 * sharing pass (link.c) and the report (link_report.c).
 */
#ifndef NNL_LINK_INTERNAL_H
#define NNL_LINK_INTERNAL_H

#include <string.h>

#include "format/nnl_file.h"

typedef struct lk_in {
    const char *path;
    nnl_file *f;
    int gbase;                 /* first output graph of this input */
    int wbase;                 /* first lk_w of this input */
} lk_in;

/* One weight record of one input. */
typedef struct lk_w {
    int in;
    const nnl_frec_weight *w;
    int stored;                /* index in the output weights table */
    int g_first, g_count;      /* output graphs using it: lk.glist[g_first ...] */
} lk_w;

typedef struct lk {
    nnl_share_mode mode;
    lk_in *in;
    int n_in;
    lk_w *w;
    int n_w;
    int *glist;                /* graph lists of all lk_w, back to back */
    int n_graphs;
    const char **gname;        /* output graph names (after renames) */
    const char **gorig;        /* their names in the input */
    int *g_in;                 /* input of each output graph */
    int *st_src;               /* per stored weight: the lk_w that provides its bytes */
    int *st_users;             /* per stored weight: lk_w mapped to it */
    int n_st;
} lk;

/* An entry of a sorted index: by name (graph or weight names) or by key
 * (a content hash). */
typedef struct lk_keyed {
    uint64_t key;
    const char *name;
    int idx;
} lk_keyed;

/* qsort order by name, then index: equal names end up adjacent, in input
 * order. */
static inline int nnl_lk_cmp_name(const void *a, const void *b) {
    const lk_keyed *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Same dtype, shape, layout and every byte.  Both the sharing pass and the
 * report's reasons use it; it lives here so that link.c depends on
 * link_report.c (for the report) and never the other way round. */
static inline bool nnl_lk_same_content(const nnl_frec_weight *a, const nnl_frec_weight *b) {
    if (a->dtype != b->dtype || a->layout != b->layout || a->rank != b->rank ||
        a->nbytes != b->nbytes)
        return false;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return a->data == b->data || memcmp(a->data, b->data, (size_t)a->nbytes) == 0;
}

/* Writes the JSON report of a finished link to path (temporary file +
 * rename). */
nnl_status nnl_lk_write_report(const lk *L, const char *path, const char *out_path,
                               const nnl_link_summary *sum);

#endif
