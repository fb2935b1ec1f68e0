/* Thread-local last-error message and status names. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

#define NNL_ERRMSG_MAX 1024
static _Thread_local char errmsg[NNL_ERRMSG_MAX];

nnl_status nnl_fail(nnl_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, sizeof errmsg, fmt, ap);
    va_end(ap);
    return s;
}

nnl_status nnl_op_fail(const nnl_op_call *c, nnl_status s, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nnl_fail(s, "%s node '%s': %s", c->op ? c->op : "?", c->node ? c->node : "", msg);
}

nnl_status nnl_fail_context(nnl_status s, const char *fmt, ...) {
    char prefix[NNL_ERRMSG_MAX], old[NNL_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, errmsg, sizeof old);
    size_t n = strlen(prefix);
    memcpy(errmsg, prefix, n);
    size_t rest = strnlen(old, sizeof errmsg - 1 - n);
    memcpy(errmsg + n, old, rest);
    errmsg[n + rest] = 0;
    return s;
}

const char *nnl_last_error(void) { return errmsg; }

void nnl_msg_list_add(char *buf, size_t n, size_t *used, const char *s, bool quote) {
    if (*used == 0 && n) buf[0] = 0;
    if (*used + 1 >= n) return;
    int w = snprintf(buf + *used, n - *used, quote ? "%s'%s'" : "%s%s", *used ? ", " : "", s);
    if (w > 0) *used = *used + (size_t)w < n ? *used + (size_t)w : n - 1;
}

const char *nnl_version(void) { return NNL_VERSION_STRING; }

const char *nnl_status_string(nnl_status s) {
    switch (s) {
    case NNL_OK: return "ok";
    case NNL_ERR_INVALID_ARG: return "invalid argument";
    case NNL_ERR_IO: return "I/O error";
    case NNL_ERR_FORMAT: return "format error";
    case NNL_ERR_UNSUPPORTED: return "unsupported";
    case NNL_ERR_SHAPE: return "shape error";
    case NNL_ERR_NOT_FOUND: return "not found";
    case NNL_ERR_NOMEM: return "out of memory";
    case NNL_ERR_MISMATCH: return "mismatch";
    case NNL_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}
