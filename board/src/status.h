/* qbnetd's status socket and `qbnetd status`: STATE_DIR/status.sock
 * (owner-only) answers each connection with the daemon's state and counters
 * as "KEY VALUE" lines and closes it; the daemon reads nothing from a
 * client. The client prints the lines as text or JSON. */
#ifndef QB_STATUS_H
#define QB_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "session.h"
#include "stats.h"

#define STATUS_SOCKET_NAME "status.sock"
/* The largest dump the client reads: the real one is about 3 KiB. */
#define STATUS_MAX 65536

/* What the dump shows, gathered by main. */
struct status_view {
	const char *version;
	const char *serial;
	const char *link;		/* "unix:PATH" or "usb (...)" */
	const char *tun;
	uint64_t started_ms;		/* clock_now_ms() at start */
	const bool *link_up;
	const struct session *session;
	const struct stats *stats;
};

/* Writes the dump into buf (always NUL-terminated when cap > 0); returns
 * the length it needed, like snprintf. Control characters in values are
 * written as '?', so every value stays on its line. */
size_t status_format(char *buf, size_t cap, const struct status_view *view, uint64_t now_ms);

/* Listens on path (a stale socket is replaced; mode 0600); the fd, or -1
 * with err set. */
int status_listen(const char *path, char *err, size_t err_len);
/* Answers every pending connection on listen_fd with the dump (without
 * blocking: a client that does not read gets what fits its socket buffer). */
void status_serve(int listen_fd, const struct status_view *view);

/* `qbnetd status [--json] [--state-dir DIR]` (argv[0] is "status");
 * returns the exit code. */
int status_client_main(int argc, char **argv, FILE *out, FILE *errors);

/* A dump as text (aligned, counters with what they count) or as one JSON
 * object ("counters.NAME" keys nested under "counters"). Lines that are not
 * KEY VALUE are skipped; returns the number of lines used. */
int status_print_text(const char *dump, size_t len, FILE *out);
int status_print_json(const char *dump, size_t len, FILE *out);

#endif
