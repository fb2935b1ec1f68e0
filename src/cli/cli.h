/* nnlink command-line tool: each command in cmd_<command>.c (extract,
 * the inverse of link, beside it in cmd_link.c), the helpers below in
 * common.c, the dispatch table in main.c. */
#ifndef NNL_CLI_H
#define NNL_CLI_H

#include <stdbool.h>

#include "nnlink.h"

int cmd_compile(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_link(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_quantize(int argc, char **argv);

/* s (a name or text read from a file, or an argument) escaped for the
 * terminal by nnl_escape: control bytes and invalid UTF-8 as \xNN.  The
 * result stays valid for the next seven calls, enough for any one printf
 * (the CLI is single-threaded).  Also used before json_string/json_pack,
 * which refuse invalid UTF-8. */
const char *cli_esc(const char *s);
/* Print "nnlink: <msg>" for a failed library call; returns exit status 1. */
int cli_fail(nnl_status s);
/* Print an error message; returns 2 (usage error). */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool cli_is_help(const char *arg);
/* The end of every command's argument loop, for an argument no option
 * took: an unknown option is a usage error, the one positional argument
 * fills *slot, a second is a usage error.  0, or the exit code. */
int cli_positional(const char *cmd, const char *a, const char **slot);
/* Parse "NAME=D0,D1,..." into shape (its name stored in name[n]); false on
 * syntax error. */
bool cli_parse_shape(const char *arg, nnl_input_shape *shape, char *name, size_t n);
/* Split "NAME=VALUE" (VALUE returned, NAME copied into name). */
bool cli_split_assign(const char *arg, char *name, size_t n, const char **value);
/* Read a .npy file and hand it to the session as input `name`. */
nnl_status cli_set_input_npy(nnl_session *s, const char *name, const char *path);
/* Open a plan and resolve --graph; prints errors.  Returns 0 or exit code. */
int cli_open_graph(const char *path, const char *graph, nnl_plan **plan, int *gi);

#endif
