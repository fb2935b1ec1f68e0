/*
 * Shared by the libFuzzer harnesses.  The readers under test take paths
 * (they map the file), so each input is written to a file in a private
 * folder, on tmpfs when /dev/shm exists.  A private folder matters for
 * ONNX: external-data locations are resolved next to the model, so a
 * hostile model can only name files the harness itself wrote there.
 */
#ifndef NNL_FUZZ_UTIL_H
#define NNL_FUZZ_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnlink.h"
#include "../msg_clean.h"

/* Arenas larger than this are legal (a real model may need gigabytes) but
 * not worth mapping and touching on every execution; a file that claims
 * one is still opened and checked, just not run. */
#define FZ_MAX_ARENA ((uint64_t)16 << 20)
/* Work of one run (nnl_session_flops) the harness still executes: the
 * generic scalar ops (Einsum, ...) run at ~50 MFLOP/s under ASan + UBSan,
 * and an input that takes seconds only slows the search (a 17 s Einsum
 * was found at 2e9). */
#define FZ_MAX_FLOPS 5e7
/* Linked files may hold many graphs; running a few covers the code. */
#define FZ_MAX_GRAPHS 8

static char fz_dir[256];

/* The folder holds only what the harness and the library (temporaries of
 * atomic writes) put there. */
static void fz_remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

__attribute__((unused)) static void fz_cleanup(void) { fz_remove_dir(fz_dir); }

/* The folder is named after the process.  A crash, or libFuzzer's -fork
 * children exiting with _exit, skips atexit; so each start first removes
 * the folders of processes that no longer exist. */
__attribute__((unused)) static void fz_init_dir(void) {
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    DIR *d = opendir(base);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *end;
        if (strncmp(e->d_name, "nnl-fuzz.", 9) != 0) continue;
        long pid = strtol(e->d_name + 9, &end, 10);
        if (*end || pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
            char p[512];
            snprintf(p, sizeof p, "%s/%s", base, e->d_name);
            fz_remove_dir(p);
        }
    }
    if (d) closedir(d);
    snprintf(fz_dir, sizeof fz_dir, "%s/nnl-fuzz.%ld", base, (long)getpid());
    fz_remove_dir(fz_dir);   /* a stale one of a reused pid */
    if (mkdir(fz_dir, 0700) != 0) {
        perror(fz_dir);
        abort();   /* harness setup, not the library under test */
    }
    atexit(fz_cleanup);
}

__attribute__((unused)) static const char *fz_path(const char *name) {
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", fz_dir, name);
    return p;
}

/* Write the input to fz_dir/name; returns the path (static storage). */
__attribute__((unused)) static const char *fz_write(const char *name, const void *data, size_t n) {
    const char *p = fz_path(name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(p);
        abort();
    }
    const char *b = data;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w <= 0) {
            perror(p);
            abort();
        }
        b += w;
        n -= (size_t)w;
    }
    close(fd);
    return p;
}

/* The last error message holds no raw byte of the input: a file's names
 * reach messages escaped (nnl_escape), never as terminal controls or
 * invalid UTF-8. */
__attribute__((unused)) static void fz_check_message(void) {
    if (!msg_clean(nnl_last_error())) {
        fprintf(stderr, "message with control bytes or invalid UTF-8\n");
        abort();
    }
}

/* Touch every byte of a buffer the library handed out, so ASan sees a
 * pointer or size that does not match the allocation or mapping. */
__attribute__((unused)) static uint8_t fz_touch(const void *data, size_t n) {
    const volatile uint8_t *p = data;
    uint8_t x = 0;
    for (size_t i = 0; i < n; i++) x ^= p[i];
    return x;
}

/* Exercise an opened plan the way `nnlink info` and `nnlink run` do: every
 * accessor, then for each graph (up to FZ_MAX_GRAPHS) a one-thread session
 * and one run on the zeroed arena, reading every output byte.  Failures are
 * fine; crashes, leaks and sanitizer reports are not. */
__attribute__((unused)) static void fz_exercise_plan(const nnl_plan *p) {
    nnl_file_info fi;
    volatile uint8_t sink = 0;
    if (nnl_plan_file_info(p, &fi) == NNL_OK) sink ^= (uint8_t)(strlen(fi.target) + strlen(fi.tool_version));
    int ng = nnl_plan_graph_count(p);
    (void)nnl_plan_default_graph(p);
    (void)nnl_plan_weight_bytes(p, -1);
    for (int w = 0; w < nnl_plan_weight_count(p); w++) {
        nnl_weight_info wi;
        if (nnl_plan_weight_info(p, w, &wi) == NNL_OK) sink ^= (uint8_t)(strlen(wi.name) + strlen(wi.layout));
        for (int g = 0; g < ng; g++) sink ^= (uint8_t)nnl_plan_weight_used_by(p, w, g);
    }
    for (int g = 0; g < ng; g++) {
        const char *name = nnl_plan_graph_name(p, g);
        int found = -1;
        if (nnl_plan_find_graph(p, name, &found) != NNL_OK || found < 0) abort();
        (void)nnl_plan_weight_bytes(p, g);
        for (int i = 0; i < nnl_plan_input_count(p, g); i++) {
            nnl_tensor_info ti;
            if (nnl_plan_input_info(p, g, i, &ti) == NNL_OK) sink ^= (uint8_t)strlen(ti.name);
        }
        for (int i = 0; i < nnl_plan_output_count(p, g); i++) {
            nnl_tensor_info ti;
            if (nnl_plan_output_info(p, g, i, &ti) == NNL_OK) sink ^= (uint8_t)strlen(ti.name);
        }
        if (g >= FZ_MAX_GRAPHS || nnl_plan_arena_bytes(p, g) > FZ_MAX_ARENA) continue;
        nnl_session_options so = {.size = sizeof so, .n_threads = 1};
        nnl_session *s = NULL;
        if (nnl_session_create(p, g, &so, &s) != NNL_OK) {
            fz_check_message();
            continue;
        }
        /* a valid graph can be legitimately huge within a small arena (a
         * 1x1 output summing a 16 MiB input a million times); running it
         * would only time the fuzzer out */
        if (nnl_session_flops(s) <= FZ_MAX_FLOPS && nnl_session_run(s) == NNL_OK) {
            for (int i = 0; i < nnl_plan_output_count(p, g); i++) {
                nnl_tensor_info ti;
                const void *data = NULL;
                if (nnl_session_output(s, i, &ti, &data) != NNL_OK) continue;
                size_t n = nnl_dtype_size(ti.dtype);
                for (int d = 0; d < ti.rank; d++) n *= (size_t)ti.dims[d];
                sink ^= fz_touch(data, n);
            }
        }
        nnl_session_free(s);
        fz_check_message();
    }
    (void)sink;
}

#endif
