/*
 * libFuzzer harness for the .nnl reader and the runtime behind it:
 * nnl_plan_open on the input, then, when the file opens, every plan
 * accessor and a session + one run per graph (fuzz_util.h).  A file that
 * opens is "valid but hostile": the runtime must still never crash on it.
 *
 * The metadata checksum would stop almost every mutation at the header, so
 * before writing, the harness makes file_size, the weight-data section's
 * length and meta_checksum agree with the mutated bytes.  The checks of
 * those three fields are covered by tests/test_robust.c (truncations and
 * raw byte flips) instead.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/fmt_internal.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fz_init_dir();
    return 0;
}

static void fix_up(uint8_t *m, size_t n) {
    if (n < NNL_FMT_TABLES_END || memcmp(m, NNL_FMT_MAGIC, NNL_FMT_MAGIC_LEN) != 0) return;
    nnl_put_u64(m + NNL_FMT_OFF_FILESIZE, n);
    uint8_t *e = m + NNL_FMT_HEADER_SIZE + (NNL_SEC_WEIGHT_DATA - 1) * NNL_FMT_SECTION_ENTRY;
    uint64_t off = nnl_get_u64(e + 8);
    if (off < NNL_FMT_TABLES_END || off > n) return;   /* the reader refuses these anyway */
    nnl_put_u64(e + 16, n - off);
    nnl_put_u64(m + NNL_FMT_OFF_META_SUM, nnl_fmt_meta_checksum(m, off));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *m = malloc(size ? size : 1);
    if (!m) return 0;
    memcpy(m, data, size);
    fix_up(m, size);
    const char *path = fz_write("in.nnl", m, size);
    free(m);
    nnl_plan *p = NULL;
    if (nnl_plan_open(path, &p) == NNL_OK) {
        fz_exercise_plan(p);
        nnl_plan_free(p);
    } else if (p) {
        abort();   /* a failed open must not hand out a plan */
    }
    fz_check_message();
    return 0;
}
