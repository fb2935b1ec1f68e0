/* Argument helpers shared by the commands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/core.h"
#include "util/npy.h"

const char *cli_esc(const char *s) {
    static char ring[8][1024];
    static unsigned next;
    char *b = ring[next++ % 8];
    return nnl_escape(s, b, sizeof ring[0]);
}

/* nnl_last_error() is escaped by the library already. */
int cli_fail(nnl_status s) {
    fprintf(stderr, "nnlink: %s (%s)\n", nnl_last_error(), nnl_status_string(s));
    return 1;
}

/* Usage messages quote arguments, escaped like everything else printed. */
int cli_usage_error(const char *cmd, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "nnlink %s: %s\n(see `nnlink %s --help`)\n", cmd, cli_esc(msg), cmd);
    return 2;
}

int cli_positional(const char *cmd, const char *a, const char **slot) {
    if (a[0] == '-' && a[1]) return cli_usage_error(cmd, "unknown or incomplete option '%s'", a);
    if (*slot) return cli_usage_error(cmd, "unexpected argument '%s'", a);
    *slot = a;
    return 0;
}

bool cli_is_help(const char *a) { return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0; }

bool cli_split_assign(const char *arg, char *name, size_t n, const char **value) {
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg || (size_t)(eq - arg) >= n) return false;
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = 0;
    *value = eq + 1;
    return true;
}

bool cli_parse_shape(const char *arg, nnl_input_shape *shape, char *name, size_t n) {
    const char *v;
    if (!cli_split_assign(arg, name, n, &v)) return false;
    shape->name = name;
    shape->rank = 0;
    if (*v == 0) return true;   /* a scalar */
    for (;;) {
        if (shape->rank == NNL_MAX_RANK) return false;
        errno = 0;
        char *end;
        long long d = strtoll(v, &end, 10);
        if (end == v || errno || d < 0) return false;
        shape->dims[shape->rank++] = d;
        if (*end == 0) return true;
        if (*end != ',' && *end != 'x') return false;
        v = end + 1;
    }
}

nnl_status cli_set_input_npy(nnl_session *s, const char *name, const char *path) {
    nnl_tensor t;
    nnl_status st = nnl_npy_read(path, &t);
    if (st) return st;
    st = nnl_session_set_input(s, name, t.dtype, t.rank, t.dims, t.data);
    nnl_aligned_free(t.data);
    return st;
}

int cli_open_graph(const char *path, const char *graph, nnl_plan **plan, int *gi) {
    nnl_status s = nnl_plan_open(path, plan);
    if (s) return cli_fail(s);
    s = nnl_plan_find_graph(*plan, graph, gi);
    if (s) {
        nnl_plan_free(*plan);
        *plan = NULL;
        return cli_fail(s);
    }
    return 0;
}
