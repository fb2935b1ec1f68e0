/* Thread-local last-error message and status names. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

#define NNL_ERRMSG_MAX 1024
static _Thread_local char errmsg[NNL_ERRMSG_MAX];

/* Length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF) starting at p, or 0. */
static size_t utf8_len(const unsigned char *p) {
    unsigned c = p[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;   /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return len;
}

/* Code points a terminal acts on or that change how the text around them
 * is shown: C1 controls (U+009B is CSI to some terminals), the line and
 * paragraph separators and the bidirectional embeddings and isolates. */
static bool unsafe_cp(const unsigned char *p, size_t len) {
    uint32_t cp = len == 2 ? (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F)
                : len == 3 ? (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F)
                           : 0;
    return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Names, op types and attribute strings in messages come from files, so a
 * message must not carry their bytes to a terminal as they are: C0 controls
 * (newline and tab included -- no message is meant to span lines), DEL,
 * the code points of unsafe_cp and every byte outside a well-formed UTF-8
 * sequence become the four characters \xNN.  The output is valid UTF-8
 * without controls, so escaping it again leaves it unchanged. */
const char *nnl_escape(const char *s, char *buf, size_t n) {
    if (!n) return buf;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t o = 0;
    while (*p) {
        size_t len = *p >= 0x20 && *p < 0x7F ? 1 : utf8_len(p);
        bool esc = len == 0 || unsafe_cp(p, len);
        size_t out = esc ? 4 * (len ? len : 1) : len;
        if (o + out >= n) break;   /* cut before a character, never inside */
        if (esc) {
            for (size_t i = 0; i < (len ? len : 1); i++, o += 4) snprintf(buf + o, 5, "\\x%02X", p[i]);
            p += len ? len : 1;
        } else {
            memcpy(buf + o, p, len);
            o += len, p += len;
        }
    }
    buf[o] = 0;
    return buf;
}

nnl_status nnl_fail(nnl_status s, const char *fmt, ...) {
    char raw[NNL_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    nnl_escape(raw, errmsg, sizeof errmsg);
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

/* The current message is already escaped and escaping is idempotent, so
 * the joined text is escaped as a whole. */
nnl_status nnl_fail_context(nnl_status s, const char *fmt, ...) {
    char joined[NNL_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(joined, sizeof joined, fmt, ap);
    va_end(ap);
    size_t n = strlen(joined);
    size_t rest = strnlen(errmsg, sizeof joined - 1 - n);
    memcpy(joined + n, errmsg, rest);
    joined[n + rest] = 0;
    nnl_escape(joined, errmsg, sizeof errmsg);
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
