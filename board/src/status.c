/* The status socket (daemon side: format the dump, listen, answer without
 * reading) and `qbnetd status` (client side: connect, read, print the
 * KEY VALUE lines as text or JSON). The printers take any bytes: they are
 * fuzzed (fuzz_status). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "state.h"
#include "status.h"

#define STATUS_DEFAULT_STATE_DIR "/run/qbnetd"
#define STATUS_ACCEPT_MAX 16
#define STATUS_READ_TIMEOUT_MS 2000

/* ---- the dump ---------------------------------------------------------- */

struct out {
	char *buf;
	size_t cap;
	size_t len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->len < o->cap ? o->cap - o->len : 0;

	va_start(ap, fmt);
	int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* KEY VALUE with VALUE's control characters replaced, so it stays one line. */
static void put_text(struct out *o, const char *key, const char *value)
{
	put(o, "%s ", key);
	for (const char *p = value ? value : ""; *p; p++) {
		unsigned char c = (unsigned char)*p;
		put(o, "%c", c < 0x20 || c == 0x7f ? '?' : c);
	}
	put(o, "\n");
}

static const char *session_state_name(enum session_state state)
{
	switch (state) {
	case SESSION_DOWN:
		return "down";
	case SESSION_WAIT_CONFIG:
		return "wait_config";
	case SESSION_CONFIGURED:
		return "configured";
	case SESSION_INCOMPATIBLE:
		return "incompatible";
	}
	return "unknown";
}

size_t status_format(char *buf, size_t cap, const struct status_view *v, uint64_t now_ms)
{
	struct out o = { .buf = buf, .cap = cap, .len = 0 };
	const struct session *s = v->session;
	char address[INET6_ADDRSTRLEN];

	if (cap)
		buf[0] = '\0';
	put_text(&o, "version", v->version);
	put_text(&o, "serial", v->serial);
	put_text(&o, "link", v->link);
	put_text(&o, "tun", v->tun);
	put(&o, "uptime_s %" PRIu64 "\n", now_ms >= v->started_ms ? (now_ms - v->started_ms) / 1000 : 0);
	put(&o, "link_up %d\n", *v->link_up ? 1 : 0);
	put(&o, "session %s\n", session_state_name(s->state));
	if (s->state != SESSION_DOWN) {
		put(&o, "protocol %u\n", s->version);
		put(&o, "host_max_bundle %" PRIu32 "\n", s->peer_max_bundle);
		put(&o, "offload %d\n", s->offload ? 1 : 0);
	}
	if (s->applied) {
		put(&o, "mtu %u\n", s->mtu);
		inet_ntop(AF_INET, s->config.ipv4, address, sizeof(address));
		put(&o, "ipv4 %s/%u\n", address, s->config.ipv4_prefix);
		if (s->config.has_ipv6) {
			inet_ntop(AF_INET6, s->config.ipv6, address, sizeof(address));
			put(&o, "ipv6 %s/%u\n", address, s->config.ipv6_prefix);
		}
	}
#define STATUS_COUNTER(name, text) put(&o, "counters." #name " %" PRIu64 "\n", v->stats->name);
	STATS_COUNTERS(STATUS_COUNTER)
#undef STATUS_COUNTER
	return o.len;
}

/* ---- the daemon's socket ---------------------------------------------- */

int status_listen(const char *path, char *err, size_t err_len)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(address.sun_path)) {
		/* Bounded: a path we know is long must not make the message unbounded (gcc 14's -Wformat-truncation). */
		snprintf(err, err_len, "status socket path too long (%zu bytes, at most %zu): %.64s...", strlen(path),
			 sizeof(address.sun_path) - 1, path);
		return -1;
	}
	memcpy(address.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, err_len, "status socket: %s", strerror(errno));
		return -1;
	}
	/* The state directory is ours (its lock is held): a socket left there is stale. */
	if (unlink(path) && errno != ENOENT) {
		snprintf(err, err_len, "cannot remove the stale %s: %s", path, strerror(errno));
		goto fail;
	}
	mode_t old_mask = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&address, sizeof(address));
	umask(old_mask);
	if (rc) {
		snprintf(err, err_len, "cannot bind the status socket %s: %s", path, strerror(errno));
		goto fail;
	}
	if (listen(fd, STATUS_ACCEPT_MAX)) {
		snprintf(err, err_len, "cannot listen on %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	return fd;

fail_unlink:
	unlink(path);
fail:
	close(fd);
	return -1;
}

void status_serve(int listen_fd, const struct status_view *view)
{
	static char dump[STATUS_MAX];
	bool formatted = false;
	size_t len = 0;

	for (int i = 0; i < STATUS_ACCEPT_MAX; i++) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
				debug("status socket: accept: %s", strerror(errno));
			return;
		}
		if (!formatted) {
			len = status_format(dump, sizeof(dump), view, clock_now_ms());
			if (len >= sizeof(dump))
				len = sizeof(dump) - 1;
			formatted = true;
		}
		ssize_t sent = send(fd, dump, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent != (ssize_t)len)
			debug("status socket: sent %zd of %zu bytes", sent, len);
		close(fd);
	}
}

/* ---- printing a dump ------------------------------------------------- */

/* The next line of dump as KEY and VALUE (pointers into dump, not
 * terminated); false at the end. A line whose key is not [a-z0-9_.]+ followed
 * by a space is returned with key_len 0 (to be skipped). */
struct line {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
};

static bool next_line(const char **cursor, const char *end, struct line *line)
{
	const char *p = *cursor;

	if (p >= end)
		return false;
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	*cursor = eol < end ? eol + 1 : end;
	const char *space = memchr(p, ' ', (size_t)(eol - p));
	line->key = p;
	line->key_len = 0;
	if (!space || space == p)
		return true;
	for (const char *k = p; k < space; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_' || *k == '.'))
			return true;
	line->key_len = (size_t)(space - p);
	line->value = space + 1;
	line->value_len = (size_t)(eol - space - 1);
	return true;
}

static bool is_counter(const struct line *line, const char **name, size_t *name_len)
{
	static const char prefix[] = "counters.";

	if (line->key_len <= sizeof(prefix) - 1 || memcmp(line->key, prefix, sizeof(prefix) - 1))
		return false;
	*name = line->key + sizeof(prefix) - 1;
	*name_len = line->key_len - (sizeof(prefix) - 1);
	return true;
}

static const char *counter_text(const char *name, size_t len)
{
#define STATUS_TEXT(counter, text) \
	if (len == sizeof(#counter) - 1 && !memcmp(name, #counter, len)) \
		return text;
	STATS_COUNTERS(STATUS_TEXT)
#undef STATUS_TEXT
	return "";
}

/* A value as written, non-printable bytes as '?'. */
static void print_raw(FILE *out, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		fputc(c < 0x20 || c >= 0x7f ? '?' : c, out);
	}
}

int status_print_text(const char *dump, size_t len, FILE *out)
{
	const char *cursor = dump, *end = dump + len, *name;
	struct line line;
	size_t name_len;
	bool counters = false;
	int used = 0;

	while (next_line(&cursor, end, &line)) {
		if (!line.key_len)
			continue;
		used++;
		if (is_counter(&line, &name, &name_len)) {
			if (!counters)
				fputs("counters:\n", out);
			counters = true;
			fputs("  ", out);
			print_raw(out, name, name_len);
			fprintf(out, "%*s", name_len < 24 ? (int)(24 - name_len) : 1, "");
			fprintf(out, "%*s", line.value_len < 12 ? (int)(12 - line.value_len) : 0, "");
			print_raw(out, line.value, line.value_len);
			fprintf(out, "  %s\n", counter_text(name, name_len));
			continue;
		}
		print_raw(out, line.key, line.key_len);
		fprintf(out, "%*s", line.key_len < 16 ? (int)(16 - line.key_len) : 1, "");
		print_raw(out, line.value, line.value_len);
		fputc('\n', out);
	}
	return used;
}

static void print_json_string(FILE *out, const char *p, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static bool is_number(const char *p, size_t len)
{
	if (!len || len > 19 || (len > 1 && p[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

static void print_json_value(FILE *out, const char *p, size_t len)
{
	if (is_number(p, len))
		fprintf(out, "%.*s", (int)len, p);
	else
		print_json_string(out, p, len);
}

int status_print_json(const char *dump, size_t len, FILE *out)
{
	const char *cursor = dump, *end = dump + len, *name;
	struct line line;
	size_t name_len;
	int used = 0, counters = 0;

	fputs("{", out);
	/* Top-level keys first, then the counters in one object. */
	while (next_line(&cursor, end, &line)) {
		if (!line.key_len || is_counter(&line, &name, &name_len) ||
		    (line.key_len == 8 && !memcmp(line.key, "counters", 8)))
			continue;
		fputs(used++ ? ", " : "", out);
		print_json_string(out, line.key, line.key_len);
		fputs(": ", out);
		print_json_value(out, line.value, line.value_len);
	}
	fputs(used ? ", \"counters\": {" : "\"counters\": {", out);
	cursor = dump;
	while (next_line(&cursor, end, &line)) {
		if (!line.key_len || !is_counter(&line, &name, &name_len))
			continue;
		fputs(counters++ ? ", " : "", out);
		print_json_string(out, name, name_len);
		fputs(": ", out);
		print_json_value(out, line.value, line.value_len);
	}
	fputs("}}\n", out);
	return used + counters;
}

/* ---- `qbnetd status` -------------------------------------------------- */

static void client_usage(FILE *out)
{
	fputs("Usage: qbnetd status [--json] [--state-dir DIR]\n"
	      "Print the running qbnetd's session state and counters, read from its status\n"
	      "socket STATE_DIR/" STATUS_SOCKET_NAME " (root only).\n"
	      "\n"
	      "  --json           one JSON object, counters under \"counters\"\n"
	      "  --state-dir DIR  the running qbnetd's --state-dir (default: " STATUS_DEFAULT_STATE_DIR ")\n"
	      "  -h, --help       show this help and exit\n", out);
}

/* Reads the whole dump from path into buf; its length, or -1 with a message on errors. */
static ssize_t client_read(const char *path, const char *state_dir, char *buf, size_t cap, FILE *errors)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	size_t len = 0;

	if (strlen(path) >= sizeof(address.sun_path)) {
		fprintf(errors, "qbnetd status: %s: path too long\n", path);
		return -1;
	}
	memcpy(address.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(errors, "qbnetd status: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&address, sizeof(address))) {
		int e = errno;
		if (e == ENOENT || e == ECONNREFUSED)
			fprintf(errors, "qbnetd status: no qbnetd is running with state directory %s (%s: %s): "
				"start qbnetd, or pass the --state-dir it uses\n", state_dir, path, strerror(e));
		else if (e == EACCES || e == EPERM)
			fprintf(errors, "qbnetd status: %s: %s: run it as root (the socket is the daemon owner's only)\n",
				path, strerror(e));
		else
			fprintf(errors, "qbnetd status: cannot connect to %s: %s\n", path, strerror(e));
		close(fd);
		return -1;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ready = poll(&pfd, 1, STATUS_READ_TIMEOUT_MS);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0) {
			fprintf(errors, "qbnetd status: %s did not answer within %d ms\n", path,
				STATUS_READ_TIMEOUT_MS);
			close(fd);
			return -1;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(errors, "qbnetd status: reading %s: %s\n", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0 || (len += (size_t)n) == cap)
			break;
	}
	close(fd);
	return (ssize_t)len;
}

int status_client_main(int argc, char **argv, FILE *out, FILE *errors)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *state_dir = STATUS_DEFAULT_STATE_DIR;
	bool json = false;
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 's':
			if (!optarg[0] || strlen(optarg) > 512) {
				fprintf(errors, "qbnetd status: --state-dir: '%s' is not valid; accepted: a directory path of 1..512 bytes\n",
					optarg);
				return 2;
			}
			state_dir = optarg;
			break;
		case 'h':
			client_usage(out);
			return 0;
		case ':':
			fprintf(errors, "qbnetd status: option '%s' needs a value\nTry 'qbnetd status --help'.\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(errors, "qbnetd status: unknown option '%s'\nTry 'qbnetd status --help'.\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(errors, "qbnetd status: unexpected argument '%s'\nTry 'qbnetd status --help'.\n", argv[optind]);
		return 2;
	}
	char path[600];
	if (state_path(path, sizeof(path), state_dir, STATUS_SOCKET_NAME)) {
		fprintf(errors, "qbnetd status: state directory path too long: %s\n", state_dir);
		return 2;
	}
	char *dump = malloc(STATUS_MAX);
	if (!dump) {
		fprintf(errors, "qbnetd status: out of memory\n");
		return 1;
	}
	ssize_t len = client_read(path, state_dir, dump, STATUS_MAX, errors);
	int rc = 1;
	if (len >= 0) {
		int used = json ? status_print_json(dump, (size_t)len, out) : status_print_text(dump, (size_t)len, out);
		if (used)
			rc = 0;
		else
			fprintf(errors, "qbnetd status: %s answered nothing readable\n", path);
	}
	free(dump);
	return rc;
}
