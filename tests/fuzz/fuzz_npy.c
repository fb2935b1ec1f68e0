/*
 * libFuzzer harness for the .npy reader: nnl_npy_read on the input; when
 * it succeeds, the result must be self-consistent (known dtype, rank in
 * range, non-negative dims) and every data byte readable.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/core.h"
#include "fuzz_util.h"
#include "util/npy.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fz_init_dir();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fz_write("in.npy", data, size);
    nnl_tensor t;
    memset(&t, 0, sizeof t);
    if (nnl_npy_read(path, &t) != NNL_OK) {
        fz_check_message();
        return 0;
    }
    if (nnl_dtype_size(t.dtype) == 0 || t.rank < 0 || t.rank > NNL_MAX_RANK) abort();
    for (int i = 0; i < t.rank; i++)
        if (t.dims[i] < 0) abort();
    /* The reader checked the size against the header, so the whole tensor
     * must be backed by the allocation. */
    volatile uint8_t sink = fz_touch(t.data, nnl_tensor_nbytes(&t));
    (void)sink;
    nnl_aligned_free(t.data);
    return 0;
}
