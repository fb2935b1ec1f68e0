/*
 * The property every nnlink message must have whatever the input held:
 * well-formed UTF-8 (RFC 3629) with no C0 control, DEL or C1 control, so
 * printing it cannot act on a terminal.  Used by tests/test_messages.c and
 * the fuzz harnesses, independently of the library's nnl_escape.
 */
#ifndef NNL_TEST_MSG_CLEAN_H
#define NNL_TEST_MSG_CLEAN_H

#include <stdbool.h>

static inline bool msg_clean(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c < 0x20 || c == 0x7F) return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
        unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
        if (c < 0xC2 || c > 0xF4 || p[1] < lo || p[1] > hi) return false;
        for (int i = 2; i < n; i++)
            if ((p[i] & 0xC0) != 0x80) return false;
        if (c == 0xC2 && p[1] < 0xA0) return false;   /* U+0080..U+009F */
        p += n;
    }
    return true;
}

#endif
