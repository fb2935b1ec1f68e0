/*
 * Atomic output (see atomic_out.h).  Two details matter for speed on large
 * files: the file's blocks are reserved up front (fallocate), which makes
 * writes much cheaper under delayed allocation, and writeback of each
 * written stretch is started early (sync_file_range), so the disk works
 * while the rest is produced and the final fsync has little left to do.
 *
 * Where the file system supports it (Linux O_TMPFILE: ext4, xfs, btrfs,
 * tmpfs), the file being written has no name at all until it is complete
 * and fsynced: a process killed mid-write leaves nothing behind, the kernel
 * frees the blocks.  Only then is it linked under a hidden temporary name
 * and renamed over the destination (rename is the atomic step; linkat
 * cannot replace an existing name).  Elsewhere the temporary is named from
 * the start, as ".<name>.XXXXXX" next to the destination.
 */
#include "format/atomic_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes start and end on 2 MB file offsets (but the last): the page cache
 * then holds the file in 2 MB folios where the file system keeps large
 * folios (ext4 from Linux 6.16, xfs), and nnl_file_read's mapping can use
 * one TLB entry for 2 MB of weights (format/nnl_file_read.c). */
#define STAGE_BYTES ((size_t)2 << 20)
#define KICK_BYTES ((uint64_t)32 << 20)

static nnl_status write_all(nnl_out *o, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(o->fd, b, n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return nnl_fail(NNL_ERR_IO, "writing %s: %s", o->path, strerror(errno));
        }
        b += w;
        n -= (size_t)w;
        o->written += (uint64_t)w;
    }
#if defined(__linux__)
    if (o->written - o->kicked >= KICK_BYTES) {
        (void)sync_file_range(o->fd, (off_t)o->kicked, (off_t)(o->written - o->kicked),
                              SYNC_FILE_RANGE_WRITE);
        o->kicked = o->written;
    }
#endif
    return NNL_OK;
}

static nnl_status flush(nnl_out *o) {
    nnl_status s = write_all(o, o->stage, o->nstage);
    o->nstage = 0;
    return s;
}

void nnl_out_abort(nnl_out *o) {
    if (o->fd >= 0) close(o->fd);
    o->fd = -1;
    if (o->tmp && !o->anon) unlink(o->tmp);
    nnl_free(o->tmp);
    o->tmp = NULL;
    nnl_free(o->stage);
    o->stage = NULL;
}

nnl_status nnl_out_open(nnl_out *o, const char *path, uint64_t reserve) {
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->path = path;
    /* "<dir>/.<base>.XXXXXX": same folder, so the rename stays within one
     * file system. */
    const char *slash = strrchr(path, '/');
    size_t n = strlen(path) + 16;
    o->tmp = nnl_malloc(n);
    o->stage = nnl_malloc(STAGE_BYTES);
    if (!o->tmp || !o->stage) {
        nnl_out_abort(o);
        return nnl_fail(NNL_ERR_NOMEM, "out of memory writing %s", path);
    }
    snprintf(o->tmp, n, "%.*s.%s.XXXXXX", slash ? (int)(slash - path) + 1 : 0, path,
             slash ? slash + 1 : path);
#if defined(__linux__) && defined(O_TMPFILE)
    /* /proc/self/fd is how the finished file gets its name (linkat with
     * AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH) */
    if (access("/proc/self/fd", X_OK) == 0) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1, slash ? path : ".");
        o->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
        o->anon = o->fd >= 0;
    }
#endif
    if (!o->anon) o->fd = mkstemp(o->tmp);
    if (o->fd < 0) {
        nnl_status s = nnl_fail(NNL_ERR_IO, "cannot create a temporary file next to %s: %s",
                                path, strerror(errno));
        nnl_free(o->tmp);
        o->tmp = NULL;
        nnl_out_abort(o);
        return s;
    }
    if (fchmod(o->fd, 0644) != 0) {
        nnl_status s = nnl_fail(NNL_ERR_IO, "chmod %s: %s", o->tmp, strerror(errno));
        nnl_out_abort(o);
        return s;
    }
    if (reserve > 0 && fallocate(o->fd, 0, 0, (off_t)reserve) != 0 &&
        (errno == ENOSPC || errno == EFBIG)) {
        nnl_status s = nnl_fail(NNL_ERR_IO, "writing %s: %s (%llu bytes needed)", path,
                                strerror(errno), (unsigned long long)reserve);
        nnl_out_abort(o);
        return s;
    }
    return NNL_OK;
}

nnl_status nnl_out_put(nnl_out *o, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n > 0) {
        /* the stage holds the file's bytes from `written` up to the next
         * STAGE_BYTES boundary at most, and is written when it gets there */
        size_t room = STAGE_BYTES - (size_t)((o->written + o->nstage) % STAGE_BYTES);
        if (o->nstage == 0 && room == STAGE_BYTES && n >= STAGE_BYTES) {
            size_t whole = n / STAGE_BYTES * STAGE_BYTES;
            nnl_status s = write_all(o, b, whole);
            if (s) return s;
            b += whole;
            n -= whole;
            continue;
        }
        size_t take = n < room ? n : room;
        memcpy(o->stage + o->nstage, b, take);
        o->nstage += take;
        b += take;
        n -= take;
        if (take == room) {
            nnl_status s = flush(o);
            if (s) return s;
        }
    }
    return NNL_OK;
}

nnl_status nnl_out_pwrite(nnl_out *o, const void *p, size_t n, uint64_t at) {
    nnl_status s = flush(o);
    if (s) return s;
    const uint8_t *b = p;
    for (size_t done = 0; done < n;) {
        ssize_t w = pwrite(o->fd, b + done, n - done, (off_t)(at + done));
        if (w < 0) {
            if (errno == EINTR) continue;
            return nnl_fail(NNL_ERR_IO, "writing %s: %s", o->path, strerror(errno));
        }
        done += (size_t)w;
    }
    return NNL_OK;
}

static void sync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);   /* best effort: the rename is already visible */
        close(fd);
    }
}

/* Gives the complete anonymous file the temporary name: a fresh one per
 * try (another writer may be finishing the same destination). */
static nnl_status link_anon(nnl_out *o) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", o->fd);
    size_t n = strlen(o->tmp);
    for (int attempt = 0; attempt < 100; attempt++) {
        /* the template's XXXXXX, filled like mkstemp would */
        static const char digits[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        uint64_t r = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)o ^ ((uint64_t)attempt * 0x9E3779B97F4A7C15u) ^
                     (uint64_t)o->written;
        for (int i = 0; i < 6; i++, r /= 62) o->tmp[n - 6 + i] = digits[r % 62];
        if (linkat(AT_FDCWD, proc, AT_FDCWD, o->tmp, AT_SYMLINK_FOLLOW) == 0) {
            o->anon = false;   /* it has a name now: abort must unlink it */
            return NNL_OK;
        }
        if (errno != EEXIST) break;
    }
    return nnl_fail(NNL_ERR_IO, "cannot name the finished file next to %s: %s", o->path, strerror(errno));
}

/* Renames the temporary over the destination; once renamed it is no
 * longer ours to unlink. */
static nnl_status rename_over(nnl_out *o) {
    if (rename(o->tmp, o->path) != 0)
        return nnl_fail(NNL_ERR_IO, "cannot rename the temporary file to %s: %s", o->path, strerror(errno));
    nnl_free(o->tmp);
    o->tmp = NULL;
    return NNL_OK;
}

nnl_status nnl_out_commit(nnl_out *o) {
    nnl_status s = flush(o);
    if (!s && fsync(o->fd) != 0) s = nnl_fail(NNL_ERR_IO, "fsync %s: %s", o->path, strerror(errno));
    if (!s && o->anon) {
        /* named and renamed back to back: the name exists only for the
         * moment between the two calls */
        s = link_anon(o);
        if (!s) s = rename_over(o);
    }
    if (!s) {
        int rc = close(o->fd);
        o->fd = -1;
        if (rc != 0) s = nnl_fail(NNL_ERR_IO, "closing %s: %s", o->path, strerror(errno));
    }
    if (!s && o->tmp) s = rename_over(o);
    if (s) {
        nnl_out_abort(o);
        return s;
    }
    nnl_out_abort(o);
    sync_dir(o->path);
    return NNL_OK;
}
