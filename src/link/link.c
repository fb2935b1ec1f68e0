/*
 * nnl_link_files: several .nnl files -> one file holding every graph over
 * one weights section.
 *
 * Sharing is decided per input weight, in input order: a weight reuses an
 * already stored one when the mode's key matches (name and content, or
 * content alone) and the bytes compare equal.  The stored hash only picks
 * candidates; memcmp decides, so neither a name nor a hash alone ever makes
 * two weights one.  The output's weights point into the input mappings and
 * the writer streams them from there: nothing is copied in memory.
 *
 * Every input byte that reaches the output is checked against its weight's
 * recorded hash as it is written, and every weight left out as a duplicate
 * was compared equal to one of those, so a damaged input cannot come out
 * with a fresh, valid checksum, at no extra pass over the inputs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "format/fmt_internal.h"
#include "link/link_internal.h"

static void lk_free(lk *L) {
    for (int i = 0; i < L->n_in; i++) nnl_file_close(L->in[i].f);
    nnl_free(L->in);
    nnl_free(L->w);
    nnl_free(L->glist);
    nnl_free(L->gname);
    nnl_free(L->gorig);
    nnl_free(L->g_in);
    nnl_free(L->st_src);
    nnl_free(L->st_users);
}

static nnl_status open_inputs(lk *L, const nnl_link_input *inputs, int n) {
    L->in = nnl_calloc((size_t)n, sizeof *L->in);
    if (!L->in) return nnl_fail(NNL_ERR_NOMEM, "out of memory linking");
    for (int i = 0; i < n; i++) {
        if (!inputs[i].path) return nnl_fail(NNL_ERR_INVALID_ARG, "link: input %d has no path", i);
        L->in[i].path = inputs[i].path;
        nnl_status s = nnl_file_read(inputs[i].path, &L->in[i].f);
        L->n_in = i + 1;
        if (s) return s;
        const nnl_file *f = L->in[i].f, *f0 = L->in[0].f;
        if (f->format_version != f0->format_version)
            return nnl_fail(NNL_ERR_MISMATCH, "%s has .nnl format version %u, but %s (the first "
                            "input) has %u; recompile both with the same nnlink", inputs[i].path,
                            f->format_version, inputs[0].path, f0->format_version);
        /* x86_64, aarch64 and portable files are one target (nnl_file.h) */
        if (strcmp(nnl_file_target_canon(f->target), nnl_file_target_canon(f0->target)) != 0)
            return nnl_fail(NNL_ERR_MISMATCH, "%s was compiled for target %s, but %s (the first "
                            "input) for %s; only files of one target can be linked",
                            inputs[i].path, f->target, inputs[0].path, f0->target);
        if (f->layout_version != f0->layout_version)
            return nnl_fail(NNL_ERR_MISMATCH, "%s has weight layout version %u, but %s (the "
                            "first input) has %u; recompile both with the same nnlink",
                            inputs[i].path, f->layout_version, inputs[0].path,
                            f0->layout_version);
        L->in[i].gbase = L->n_graphs;
        L->in[i].wbase = L->n_w;
        if (L->n_graphs + f->n_graphs > NNL_FMT_MAX_GRAPHS ||
            L->n_w + f->n_weights > NNL_FMT_MAX_WEIGHTS)
            return nnl_fail(NNL_ERR_INVALID_ARG, "link: too many graphs or weights in total");
        L->n_graphs += f->n_graphs;
        L->n_w += f->n_weights;
    }
    return NNL_OK;
}

static nnl_status check_clash(const lk *L) {
    lk_keyed *order = nnl_malloc(sizeof *order * (size_t)L->n_graphs);
    if (!order) return nnl_fail(NNL_ERR_NOMEM, "out of memory linking");
    for (int g = 0; g < L->n_graphs; g++) order[g] = (lk_keyed){0, L->gname[g], g};
    qsort(order, (size_t)L->n_graphs, sizeof *order, nnl_lk_cmp_name);
    nnl_status s = NNL_OK;
    for (int k = 1; k < L->n_graphs && !s; k++) {
        int a = order[k - 1].idx, b = order[k].idx;
        if (strcmp(L->gname[a], L->gname[b]) == 0)
            s = nnl_fail(NNL_ERR_INVALID_ARG,
                         "graph name '%s' is used by both %s and %s; give one a new name "
                         "(%s:%s=NEW)", L->gname[a], L->in[L->g_in[a]].path,
                         L->in[L->g_in[b]].path, L->in[L->g_in[b]].path, L->gorig[b]);
    }
    nnl_free(order);
    return s;
}

/* Graph names after renames, unique over all inputs. */
static nnl_status name_graphs(lk *L, const nnl_link_input *inputs) {
    L->gname = nnl_calloc((size_t)L->n_graphs, sizeof *L->gname);
    L->gorig = nnl_calloc((size_t)L->n_graphs, sizeof *L->gorig);
    L->g_in = nnl_calloc((size_t)L->n_graphs, sizeof *L->g_in);
    if (!L->gname || !L->gorig || !L->g_in) return nnl_fail(NNL_ERR_NOMEM, "out of memory linking");
    for (int i = 0; i < L->n_in; i++) {
        const nnl_file *f = L->in[i].f;
        const nnl_link_input *in = &inputs[i];
        for (int g = 0; g < f->n_graphs; g++) {
            L->gname[L->in[i].gbase + g] = L->gorig[L->in[i].gbase + g] = f->graphs[g].name;
            L->g_in[L->in[i].gbase + g] = i;
        }
        if (!in->rename_from && !in->rename_to) continue;
        if (!in->rename_to || !*in->rename_to)
            return nnl_fail(NNL_ERR_INVALID_ARG, "%s: rename of graph '%s' has no new name",
                            in->path, in->rename_from ? in->rename_from : "");
        int g = 0;
        char names[512];
        nnl_file_graph_names(f, names, sizeof names);
        if (in->rename_from) {
            g = nnl_file_find_graph(f, in->rename_from);
            if (g < 0)
                return nnl_fail(NNL_ERR_NOT_FOUND, "%s has no graph '%s' to rename (it has: %s)",
                                in->path, in->rename_from, names);
        } else if (f->n_graphs != 1) {
            return nnl_fail(NNL_ERR_INVALID_ARG, "%s holds %d graphs (%s); say which one to "
                            "rename to '%s' (%s:OLD=%s)", in->path, f->n_graphs, names,
                            in->rename_to, in->path, in->rename_to);
        }
        L->gname[L->in[i].gbase + g] = in->rename_to;
    }
    return check_clash(L);
}

/* For every input weight, the output graphs that use it (for the report). */
static nnl_status graph_lists(lk *L) {
    uint64_t total = 0;
    for (int i = 0; i < L->n_in; i++)
        for (int g = 0; g < L->in[i].f->n_graphs; g++) total += (uint64_t)L->in[i].f->graphs[g].n_tensors;
    L->w = nnl_calloc((size_t)L->n_w + 1, sizeof *L->w);
    L->glist = nnl_calloc((size_t)total + 1, sizeof *L->glist);
    int *last = nnl_malloc(sizeof(int) * ((size_t)L->n_w + 1));
    if (!L->w || !L->glist || !last) {
        nnl_free(last);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory linking");
    }
    for (int i = 0; i < L->n_in; i++)
        for (int j = 0; j < L->in[i].f->n_weights; j++) {
            lk_w *x = &L->w[L->in[i].wbase + j];
            x->in = i;
            x->w = &L->in[i].f->weights[j];
        }
    /* Two passes over the weight tensors: count, then fill. */
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < L->n_w; k++) last[k] = -1;
        if (pass == 1) {
            int at = 0;
            for (int k = 0; k < L->n_w; k++) {
                L->w[k].g_first = at;
                at += L->w[k].g_count;
                L->w[k].g_count = 0;
            }
        }
        for (int og = 0; og < L->n_graphs; og++) {
            const lk_in *in = &L->in[L->g_in[og]];
            const nnl_frec_graph *gr = &in->f->graphs[og - in->gbase];
            for (int t = 0; t < gr->n_tensors; t++) {
                if (gr->tensors[t].kind != NNL_TK_WEIGHT) continue;
                int k = in->wbase + (int)gr->tensors[t].where;
                if (last[k] == og) continue;
                last[k] = og;
                if (pass == 1) L->glist[L->w[k].g_first + L->w[k].g_count] = og;
                L->w[k].g_count++;
            }
        }
    }
    nnl_free(last);
    return NNL_OK;
}

static uint64_t mix(uint64_t h) {
    h ^= h >> 31;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static nnl_status share(lk *L) {
    size_t nb = 16;
    while (nb < (size_t)L->n_w * 2) nb *= 2;
    int *head = nnl_malloc(sizeof(int) * nb);
    int *next = nnl_malloc(sizeof(int) * ((size_t)L->n_w + 1));
    L->st_src = nnl_malloc(sizeof(int) * ((size_t)L->n_w + 1));
    L->st_users = nnl_calloc((size_t)L->n_w + 1, sizeof(int));
    if (!head || !next || !L->st_src || !L->st_users) {
        nnl_free(head);
        nnl_free(next);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory linking");
    }
    for (size_t b = 0; b < nb; b++) head[b] = -1;
    for (int k = 0; k < L->n_w; k++) {
        lk_w *x = &L->w[k];
        size_t b = mix(x->w->hash ^ x->w->nbytes) & (nb - 1);
        int found = -1;
        if (L->mode != NNL_SHARE_NONE)
            for (int s = head[b]; s >= 0 && found < 0; s = next[s]) {
                const nnl_frec_weight *y = L->w[L->st_src[s]].w;
                if (y->hash != x->w->hash) continue;
                if (L->mode == NNL_SHARE_NAME_CONTENT && strcmp(y->name, x->w->name) != 0) continue;
                if (nnl_lk_same_content(x->w, y)) found = s;
            }
        if (found < 0) {
            found = L->n_st++;
            L->st_src[found] = k;
            next[found] = head[b];
            head[b] = found;
        }
        x->stored = found;
        L->st_users[found]++;
    }
    nnl_free(head);
    nnl_free(next);
    return NNL_OK;
}

/* The merged file; its weights point into the input mappings. */
static nnl_status build_output(const lk *L, const nnl_link_options *o, nnl_file *out,
                               nnl_frec_weight **wout, nnl_frec_graph **gout) {
    const nnl_file *f0 = L->in[0].f;
    nnl_frec_weight *W = nnl_calloc((size_t)L->n_st + 1, sizeof *W);
    nnl_frec_graph *G = nnl_calloc((size_t)L->n_graphs, sizeof *G);
    *wout = W;
    *gout = G;
    if (!W || !G) return nnl_fail(NNL_ERR_NOMEM, "out of memory linking");
    for (int s = 0; s < L->n_st; s++) W[s] = *L->w[L->st_src[s]].w;
    for (int og = 0; og < L->n_graphs; og++) {
        const lk_in *in = &L->in[L->g_in[og]];
        const nnl_frec_graph *src = &in->f->graphs[og - in->gbase];
        /* G[og] stays zero until it owns its tensor copy: free_output frees it. */
        nnl_frec_tensor *T = nnl_calloc((size_t)src->n_tensors + 1, sizeof *T);
        if (!T) return nnl_fail(NNL_ERR_NOMEM, "out of memory linking");
        G[og] = *src;
        G[og].name = L->gname[og];
        memcpy(T, src->tensors, sizeof *T * (size_t)src->n_tensors);
        for (int t = 0; t < G[og].n_tensors; t++)
            if (T[t].kind == NNL_TK_WEIGHT) T[t].where = (uint64_t)L->w[in->wbase + (int)T[t].where].stored;
        G[og].tensors = T;
    }
    memset(out, 0, sizeof *out);
    out->format_version = NNL_FORMAT_VERSION;
    out->layout_version = f0->layout_version;
    /* inputs of one target name keep it (extracting a graph then gives back
     * its input's bytes); older host names mixed become the portable one */
    out->target = f0->target;
    for (int i = 1; i < L->n_in; i++)
        if (strcmp(L->in[i].f->target, f0->target) != 0) out->target = nnl_file_target_canon(f0->target);
    out->tool_version = NNL_VERSION_STRING;
    out->n_weights = L->n_st;
    out->weights = W;
    out->n_graphs = L->n_graphs;
    out->graphs = G;
    out->default_graph = -1;
    if (o->default_graph) {
        for (int og = 0; og < L->n_graphs; og++)
            if (strcmp(L->gname[og], o->default_graph) == 0) out->default_graph = og;
        if (out->default_graph < 0) {
            char names[512];
            size_t used = 0;
            names[0] = 0;
            for (int og = 0; og < L->n_graphs && used + 1 < sizeof names; og++) {
                int n = snprintf(names + used, sizeof names - used, "%s%s", og ? ", " : "", L->gname[og]);
                if (n < 0) break;
                used += (size_t)n;
            }
            return nnl_fail(NNL_ERR_NOT_FOUND, "default graph '%s' is not among the linked "
                            "graphs (%s)", o->default_graph, names);
        }
    }
    return NNL_OK;
}

static void free_output(const lk *L, nnl_frec_weight *W, nnl_frec_graph *G) {
    if (G)
        for (int og = 0; og < L->n_graphs; og++) nnl_free((void *)G[og].tensors);
    nnl_free(G);
    nnl_free(W);
}

nnl_status nnl_link_files(const nnl_link_input *inputs, int n_inputs, const char *out_path,
                          const nnl_link_options *opts, nnl_link_summary *summary) {
    if (summary) memset(summary, 0, sizeof *summary);
    if (!inputs || n_inputs < 1 || !out_path || !*out_path)
        return nnl_fail(NNL_ERR_INVALID_ARG, "link: no inputs or no output path");
    if (opts && opts->size != sizeof *opts)
        return nnl_fail(NNL_ERR_INVALID_ARG, "link: nnl_link_options.size is %zu, expected %zu",
                        opts->size, sizeof *opts);
    nnl_link_options o = {.size = sizeof o, .share = NNL_SHARE_NAME_CONTENT};
    if (opts) o = *opts;
    if (o.share != NNL_SHARE_NAME_CONTENT && o.share != NNL_SHARE_CONTENT && o.share != NNL_SHARE_NONE)
        return nnl_fail(NNL_ERR_INVALID_ARG, "link: unknown sharing mode %d", (int)o.share);
    lk L = {.mode = o.share};
    nnl_frec_weight *W = NULL;
    nnl_frec_graph *G = NULL;
    nnl_file out;
    nnl_link_summary sum = {0};
    const char **sources = NULL;
    nnl_status s;
    if ((s = open_inputs(&L, inputs, n_inputs)) || (s = name_graphs(&L, inputs)) ||
        (s = graph_lists(&L)) || (s = share(&L)) || (s = build_output(&L, &o, &out, &W, &G)))
        goto done;
    sum.graphs = L.n_graphs;
    sum.weights_in = L.n_w;
    sum.weights_stored = L.n_st;
    sum.weights_shared = L.n_w - L.n_st;
    for (int k = 0; k < L.n_w; k++) sum.bytes_in += L.w[k].w->nbytes;
    for (int st = 0; st < L.n_st; st++) sum.bytes_stored += W[st].nbytes;
    sum.bytes_saved = sum.bytes_in - sum.bytes_stored;
    if (!(sources = nnl_malloc(sizeof *sources * ((size_t)L.n_st + 1)))) {
        s = nnl_fail(NNL_ERR_NOMEM, "out of memory linking");
        goto done;
    }
    for (int st = 0; st < L.n_st; st++) sources[st] = L.in[L.w[L.st_src[st]].in].path;
    if ((s = nnl_file_write_ex(&out, out_path, NNL_WRITE_CHECK_HASHES, sources))) goto done;
    if (o.report_json_path && (s = nnl_lk_write_report(&L, o.report_json_path, out_path, &sum)))
        nnl_fail_context(s, "linked %s, but the report failed: ", out_path);
    if (!s && summary) *summary = sum;
done:
    nnl_free(sources);
    free_output(&L, W, G);
    lk_free(&L);
    return s;
}
