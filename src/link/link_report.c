/*
 * The JSON report of a link (schema in docs/LINK.md): every input weight,
 * the stored weight it became, the graphs using that stored weight, and for
 * a weight left unshared although another graph has one of the same name
 * (or, in name+content mode, the same content) the reason why.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "format/atomic_out.h"
#include "link/link_internal.h"

typedef lk_keyed keyed;   /* key: hash, for the content index; name: for the name index */

static int cmp_key(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* jansson refuses strings that are not UTF-8; names and paths come from
 * files and command lines, so replace stray bytes instead of dropping keys. */
static json_t *jstr(const char *s) {
    json_t *j = json_string(s);
    if (j || !s) return j;
    size_t n = strlen(s);
    char *t = nnl_malloc(n + 1);
    if (!t) return NULL;
    for (size_t i = 0; i <= n; i++) t[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    j = json_string(t);
    nnl_free(t);
    return j;
}

static uint64_t first_diff(const uint8_t *a, const uint8_t *b, uint64_t n) {
    uint64_t off = 0;
    while (n - off >= 4096 && memcmp(a + off, b + off, 4096) == 0) off += 4096;
    while (off < n && a[off] == b[off]) off++;
    return off;
}

static void shape_str(const nnl_frec_weight *w, char *buf, size_t n) {
    nnl_tensor t = {.dtype = w->dtype, .rank = w->rank};
    memcpy(t.dims, w->dims, sizeof t.dims);
    nnl_shape_str(&t, buf, n);
}

/* Two PACK_Q8 weights of one shape with different bytes: which of the
 * int8 values and the per-channel scales (kernels/qconv.h: scales, then
 * row sums, which follow from the values, then the values) differ.  The
 * zero point is 0 in this layout, so it cannot. */
static void q8_why(const nnl_frec_weight *x, const nnl_frec_weight *y, char *buf, size_t n) {
    const uint8_t *a = x->data, *b = y->data;
    uint64_t rows = ((uint64_t)x->dims[0] + 7) / 8 * 8, vals = rows * 8;
    bool scales = memcmp(a, b, rows * 4) != 0;
    uint64_t off = vals + first_diff(a + vals, b + vals, x->nbytes - vals);
    if (off < x->nbytes && scales)
        snprintf(buf, n, "int8 values and scales differ");
    else if (off < x->nbytes)
        snprintf(buf, n, "int8 values differ (first at byte %llu), scales equal", (unsigned long long)off);
    else
        snprintf(buf, n, "scales differ, int8 values equal");
}

/* Why x (not shared) differs from y (same name, another stored weight). */
static void why_not(const lk *L, const nnl_frec_weight *x, const nnl_frec_weight *y, char *buf,
                    size_t n) {
    if (L->mode == NNL_SHARE_NONE) {
        snprintf(buf, n, "sharing disabled");
    } else if (x->dtype != y->dtype) {
        snprintf(buf, n, "dtype differs (%s vs %s)", nnl_dtype_name(x->dtype),
                 nnl_dtype_name(y->dtype));
    } else if (x->rank != y->rank || memcmp(x->dims, y->dims, sizeof(int64_t) * (size_t)x->rank)) {
        char a[160], b[160];
        shape_str(x, a, sizeof a);
        shape_str(y, b, sizeof b);
        snprintf(buf, n, "shape differs (%s vs %s)", a, b);
    } else if (x->layout != y->layout) {
        snprintf(buf, n, "layout differs");
    } else if (x->nbytes != y->nbytes) {
        snprintf(buf, n, "size differs (%llu vs %llu bytes)", (unsigned long long)x->nbytes,
                 (unsigned long long)y->nbytes);
    } else {
        uint64_t off = first_diff(x->data, y->data, x->nbytes);
        if (off < x->nbytes && x->layout == NNL_LAYOUT_PACK_Q8)
            q8_why(x, y, buf, n);
        else if (off < x->nbytes)
            snprintf(buf, n, "bytes differ at offset %llu", (unsigned long long)off);
        else
            snprintf(buf, n, "identical bytes, but the input files disagree on their hashes "
                             "(files written by another nnlink?)");
    }
}

typedef struct report_ctx {
    const lk *L;
    keyed *by_name, *by_key;
    int *name_pos, *key_pos;   /* position of each lk_w in the sorted arrays */
    int *users, *user_first, *user_count;   /* stored weight -> lk_w */
    int *stamp;                /* per graph, for de-duplicating graph lists */
} report_ctx;

/* y is used by a graph x is not used by: reasons explain sharing between
 * graphs, not duplicates inside one graph (such as equal zero biases). */
static bool in_other_graph(const lk *L, const lk_w *x, const lk_w *y) {
    for (int j = 0; j < y->g_count; j++) {
        int g = L->glist[y->g_first + j];
        bool mine = false;
        for (int i = 0; i < x->g_count && !mine; i++) mine = L->glist[x->g_first + i] == g;
        if (!mine) return true;
    }
    return false;
}

/* The first weight (in input order) other than x in x's sorted group that
 * went to another stored weight and is used by another graph: with the
 * same name (same_name), or else with the same content under another
 * name. */
static int find_other(const report_ctx *c, const keyed *arr, int pos, int x, bool same_name) {
    const lk *L = c->L;
    int start = pos;
    while (start > 0 && (same_name ? strcmp(arr[start - 1].name, arr[pos].name) == 0
                                   : arr[start - 1].key == arr[pos].key))
        start--;
    for (int p = start; p < L->n_w; p++) {
        if (same_name ? strcmp(arr[p].name, arr[pos].name) != 0 : arr[p].key != arr[pos].key) break;
        int y = arr[p].idx;
        if (y == x || L->w[y].stored == L->w[x].stored || !in_other_graph(L, &L->w[x], &L->w[y]))
            continue;
        if (same_name) return y;
        if (strcmp(L->w[y].w->name, L->w[x].w->name) != 0 && nnl_lk_same_content(L->w[x].w, L->w[y].w))
            return y;
    }
    return -1;
}

static const char *mode_name(nnl_share_mode m) {
    return m == NNL_SHARE_CONTENT ? "content" : m == NNL_SHARE_NONE ? "none" : "name+content";
}

static json_t *weight_entry(report_ctx *c, int x, int serial) {
    const lk *L = c->L;
    const lk_w *lw = &L->w[x];
    const nnl_frec_weight *w = lw->w;
    json_t *e = json_object(), *graphs = json_array(), *shape = json_array();
    if (!e || !graphs || !shape) {
        json_decref(e), json_decref(graphs), json_decref(shape);
        return NULL;
    }
    /* Graphs of the stored weight: union over every input weight mapped to it. */
    int s = lw->stored, ngraphs = 0;
    for (int u = 0; u < c->user_count[s]; u++) {
        const lk_w *uw = &L->w[c->users[c->user_first[s] + u]];
        for (int k = 0; k < uw->g_count; k++) {
            int g = L->glist[uw->g_first + k];
            if (c->stamp[g] == serial) continue;
            c->stamp[g] = serial;
            ngraphs++;
            json_array_append_new(graphs, jstr(L->gname[g]));
        }
    }
    for (int d = 0; d < w->rank; d++) json_array_append_new(shape, json_integer(w->dims[d]));
    bool shared = ngraphs > 1 || c->user_count[s] > 1;
    json_object_set_new(e, "name", jstr(w->name));
    json_object_set_new(e, "source", jstr(L->in[lw->in].path));
    json_object_set_new(e, "graphs", graphs);
    json_object_set_new(e, "stored_as", json_integer(s));
    json_object_set_new(e, "shared", json_boolean(shared));
    json_object_set_new(e, "bytes", json_integer((json_int_t)w->nbytes));
    json_object_set_new(e, "dtype", json_string(nnl_dtype_name(w->dtype)));
    json_object_set_new(e, "shape", shape);
    json_object_set_new(e, "layout", json_string(nnl_layout_name(w->layout)));

    char why[512];
    int y = -1;
    if (!shared) {
        y = find_other(c, c->by_name, c->name_pos[x], x, true);
        if (y >= 0) {
            why_not(L, w, L->w[y].w, why, sizeof why);
        } else if (L->mode == NNL_SHARE_NAME_CONTENT) {
            y = find_other(c, c->by_key, c->key_pos[x], x, false);
            if (y >= 0) snprintf(why, sizeof why, "same content, different name (use --share content)");
        }
    }
    if (y >= 0) {
        json_t *cw = json_object();
        const lk_w *yw = &L->w[y];
        json_object_set_new(e, "reason", json_string(why));
        json_object_set_new(cw, "name", jstr(yw->w->name));
        json_object_set_new(cw, "source", jstr(L->in[yw->in].path));
        json_object_set_new(cw, "graph", yw->g_count ? jstr(L->gname[L->glist[yw->g_first]]) : json_null());
        json_object_set_new(e, "compared_with", cw);
    } else {
        json_object_set_new(e, "reason", json_null());
    }
    return e;
}

static json_t *build(report_ctx *c, const char *out_path, const nnl_link_summary *sum) {
    const lk *L = c->L;
    json_t *root = json_object(), *graphs = json_array(), *weights = json_array(),
           *summary = json_object();
    if (!root || !graphs || !weights || !summary) {
        json_decref(root), json_decref(graphs), json_decref(weights), json_decref(summary);
        return NULL;
    }
    json_object_set_new(root, "report", json_string("nnlink link"));
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "output", jstr(out_path));
    json_object_set_new(root, "share", json_string(mode_name(L->mode)));
    for (int g = 0; g < L->n_graphs; g++) {
        json_t *e = json_object();
        json_object_set_new(e, "name", jstr(L->gname[g]));
        json_object_set_new(e, "source", jstr(L->in[L->g_in[g]].path));
        json_object_set_new(e, "source_graph", jstr(L->gorig[g]));
        if (json_array_append_new(graphs, e)) goto fail;
    }
    json_object_set_new(root, "graphs", graphs);
    graphs = NULL;
    json_object_set_new(summary, "graphs", json_integer(sum->graphs));
    json_object_set_new(summary, "weights_in", json_integer(sum->weights_in));
    json_object_set_new(summary, "weights_stored", json_integer(sum->weights_stored));
    json_object_set_new(summary, "weights_shared", json_integer(sum->weights_shared));
    json_object_set_new(summary, "bytes_in", json_integer((json_int_t)sum->bytes_in));
    json_object_set_new(summary, "bytes_stored", json_integer((json_int_t)sum->bytes_stored));
    json_object_set_new(summary, "bytes_saved", json_integer((json_int_t)sum->bytes_saved));
    json_object_set_new(root, "summary", summary);
    summary = NULL;
    for (int x = 0; x < L->n_w; x++) {
        json_t *e = weight_entry(c, x, x + 1);
        if (!e || json_array_append_new(weights, e)) goto fail;
    }
    if (json_object_set_new(root, "weights", weights)) {
        weights = NULL;
        goto fail;
    }
    return root;
fail:
    json_decref(graphs), json_decref(weights), json_decref(summary), json_decref(root);
    return NULL;
}

static nnl_status index_weights(report_ctx *c) {
    const lk *L = c->L;
    size_t n = (size_t)L->n_w + 1;
    c->by_name = nnl_malloc(n * sizeof *c->by_name);
    c->by_key = nnl_malloc(n * sizeof *c->by_key);
    c->name_pos = nnl_malloc(n * sizeof(int));
    c->key_pos = nnl_malloc(n * sizeof(int));
    c->users = nnl_malloc(n * sizeof(int));
    c->user_first = nnl_calloc((size_t)L->n_st + 1, sizeof(int));
    c->user_count = nnl_calloc((size_t)L->n_st + 1, sizeof(int));
    c->stamp = nnl_calloc((size_t)L->n_graphs + 1, sizeof(int));
    if (!c->by_name || !c->by_key || !c->name_pos || !c->key_pos || !c->users ||
        !c->user_first || !c->user_count || !c->stamp)
        return nnl_fail(NNL_ERR_NOMEM, "out of memory writing the link report");
    for (int x = 0; x < L->n_w; x++) {
        c->by_name[x] = c->by_key[x] = (keyed){L->w[x].w->hash ^ L->w[x].w->nbytes, L->w[x].w->name, x};
        c->user_count[L->w[x].stored]++;
    }
    qsort(c->by_name, (size_t)L->n_w, sizeof *c->by_name, nnl_lk_cmp_name);
    qsort(c->by_key, (size_t)L->n_w, sizeof *c->by_key, cmp_key);
    for (int p = 0; p < L->n_w; p++) {
        c->name_pos[c->by_name[p].idx] = p;
        c->key_pos[c->by_key[p].idx] = p;
    }
    for (int s = 1; s < L->n_st; s++) c->user_first[s] = c->user_first[s - 1] + c->user_count[s - 1];
    int *fill = nnl_calloc((size_t)L->n_st + 1, sizeof(int));
    if (!fill) return nnl_fail(NNL_ERR_NOMEM, "out of memory writing the link report");
    for (int x = 0; x < L->n_w; x++) {
        int s = L->w[x].stored;
        c->users[c->user_first[s] + fill[s]++] = x;
    }
    nnl_free(fill);
    return NNL_OK;
}

static nnl_status dump_atomic(json_t *root, const char *path) {
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text) return nnl_fail(NNL_ERR_NOMEM, "out of memory writing %s", path);
    size_t n = strlen(text);
    text[n] = '\n';   /* json_dumps' NUL becomes the final newline */
    nnl_out o;
    nnl_status s = nnl_out_open(&o, path, 0);
    if (!s && (s = nnl_out_put(&o, text, n + 1))) nnl_out_abort(&o);
    if (!s) s = nnl_out_commit(&o);
    free(text);
    return s;
}

nnl_status nnl_lk_write_report(const lk *L, const char *path, const char *out_path,
                               const nnl_link_summary *sum) {
    report_ctx c = {.L = L};
    nnl_status s = index_weights(&c);
    json_t *root = NULL;
    if (!s && !(root = build(&c, out_path, sum)))
        s = nnl_fail(NNL_ERR_NOMEM, "out of memory building the link report");
    if (!s) s = dump_atomic(root, path);
    json_decref(root);
    nnl_free(c.by_name);
    nnl_free(c.by_key);
    nnl_free(c.name_pos);
    nnl_free(c.key_pos);
    nnl_free(c.users);
    nnl_free(c.user_first);
    nnl_free(c.user_count);
    nnl_free(c.stamp);
    return s;
}
