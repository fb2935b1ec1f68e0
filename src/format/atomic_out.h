/*
 * Atomic file output: a temporary file next to the destination (nameless
 * while written where the file system allows), written through a small
 * staging buffer, fsynced and renamed over the destination on commit.  Until commit the destination is untouched; abort (or any
 * failed call followed by abort) removes the temporary file.
 */
#ifndef NNL_ATOMIC_OUT_H
#define NNL_ATOMIC_OUT_H

#include "core/core.h"

typedef struct nnl_out {
    int fd;
    const char *path;          /* destination */
    char *tmp;                 /* temporary name, NULL once renamed */
    bool anon;                 /* fd is an O_TMPFILE with no name yet */
    uint8_t *stage;
    size_t nstage;
    uint64_t written, kicked;  /* bytes written / already handed to writeback */
} nnl_out;

/* Creates the temporary file and reserves `reserve` bytes for it (0: no
 * reservation); a full disk fails here.  On failure nothing is left behind
 * and o needs no abort. */
nnl_status nnl_out_open(nnl_out *o, const char *path, uint64_t reserve);
/* Appends n bytes: staged, or written directly in whole 2 MB blocks from a
 * 2 MB file offset; every write but the last ends on such an offset. */
nnl_status nnl_out_put(nnl_out *o, const void *p, size_t n);
/* Overwrites bytes already written, at offset `at` (staged bytes are
 * flushed first). */
nnl_status nnl_out_pwrite(nnl_out *o, const void *p, size_t n, uint64_t at);
/* Flush, fsync, rename over the destination, sync its folder.  On failure
 * the temporary file is removed. */
nnl_status nnl_out_commit(nnl_out *o);
/* Removes the temporary file (no-op after a commit). */
void nnl_out_abort(nnl_out *o);

#endif
