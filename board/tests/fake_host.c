/* A scripted stand-in for the host driver, for tests/netns-test.sh: listens
 * on a Unix socket, speaks the session (HELLO, CONFIG, KEEPALIVE) and runs
 * commands read from stdin, answering each with one "ok ..." or "fail ..." line.
 * Usage: fake_host SOCKET [--ipv6]
 * Commands: listen | accept SECS | rehello SECS | ping SECS | malformed |
 *           badheader SECS | stall SECS | silent SECS | close | quit */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "clock.h"
#include "proto.h"
#include "stream.h"

#define RX_LIMIT PROTO_MAX_BUNDLE_DEFAULT

static const char *socket_path;
static bool with_ipv6;
static int listen_fd = -1, conn_fd = -1;
static struct stream_rx rx;
static uint8_t rx_buf[RX_LIMIT + STREAM_SLACK];
static uint64_t last_tx_ms;
static uint32_t seq;

/* What the board sent, for the commands to wait on. */
static struct {
	unsigned hellos;
	struct proto_hello hello;
	unsigned errors;
	bool closed;
	uint16_t icmp_seq_wanted;
	bool echo_reply_ok;
	size_t echo_reply_len;
} seen;

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int send_all(const uint8_t *data, size_t len)
{
	while (len) {
		ssize_t n = send(conn_fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	last_tx_ms = clock_now_ms();
	return 0;
}

static int send_frame(uint16_t channel, const uint8_t *payload, size_t len)
{
	static uint8_t bundle[RX_LIMIT];
	struct proto_builder builder;

	proto_builder_init(&builder, bundle, sizeof(bundle));
	if (!proto_builder_add(&builder, channel, payload, len))
		return -1;
	return send_all(bundle, proto_builder_finish(&builder));
}

static int send_control(const struct proto_control *msg)
{
	uint8_t payload[PROTO_CONTROL_MAX];
	size_t len = proto_control_encode(msg, payload, sizeof(payload));

	return len ? send_frame(PROTO_CHANNEL_CONTROL, payload, len) : -1;
}

static int send_hello(void)
{
	struct proto_control msg = { .type = PROTO_HELLO };

	msg.hello.version_min = 1;
	msg.hello.version_max = 1;
	msg.hello.role = PROTO_ROLE_HOST;
	msg.hello.max_bundle = RX_LIMIT;
	msg.hello.software_len = (uint8_t)snprintf(msg.hello.software, sizeof(msg.hello.software),
						   "fake_host test");
	return send_control(&msg);
}

static int send_config(void)
{
	struct proto_control msg = { .type = PROTO_CONFIG };
	struct proto_config *c = &msg.config;

	c->mtu = 65520;
	inet_pton(AF_INET, "10.113.98.2", c->ipv4);
	c->ipv4_prefix = 24;
	c->has_gateway4 = true;
	inet_pton(AF_INET, "10.113.98.1", c->gateway4);
	c->dns4_count = 1;
	inet_pton(AF_INET, "10.113.98.3", c->dns4[0]);
	if (with_ipv6) {
		c->has_ipv6 = true;
		inet_pton(AF_INET6, "fd71:6200::2", c->ipv6);
		c->ipv6_prefix = 64;
		c->has_gateway6 = true;
		inet_pton(AF_INET6, "fd71:6200::1", c->gateway6);
		c->dns6_count = 1;
		inet_pton(AF_INET6, "fd71:6200::3", c->dns6[0]);
	}
	return send_control(&msg);
}

static uint16_t checksum(const uint8_t *data, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(data[i] << 8 | data[i + 1]);
	if (len & 1)
		sum += (uint32_t)data[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

#define ICMP_PAYLOAD 56
#define ICMP_ID 0x7162

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An IPv4 ICMP echo request 10.113.98.1 -> 10.113.98.2 with valid checksums. */
static size_t make_echo_request(uint8_t *packet, uint16_t icmp_seq)
{
	size_t len = 20 + 8 + ICMP_PAYLOAD;
	uint8_t *icmp = packet + 20;

	memset(packet, 0, len);
	packet[0] = 0x45;
	put_be16(packet + 2, (uint16_t)len);
	put_be16(packet + 4, icmp_seq);
	packet[8] = 64;
	packet[9] = 1;
	inet_pton(AF_INET, "10.113.98.1", packet + 12);
	inet_pton(AF_INET, "10.113.98.2", packet + 16);
	put_be16(packet + 10, checksum(packet, 20));
	icmp[0] = 8;
	put_be16(icmp + 4, ICMP_ID);
	put_be16(icmp + 6, icmp_seq);
	for (int i = 0; i < ICMP_PAYLOAD; i++)
		icmp[8 + i] = (uint8_t)(i + 0x20);
	put_be16(icmp + 2, checksum(icmp, 8 + ICMP_PAYLOAD));
	return len;
}

static void check_ip_frame(const uint8_t *p, size_t len)
{
	uint8_t board[4], host[4];

	inet_pton(AF_INET, "10.113.98.2", board);
	inet_pton(AF_INET, "10.113.98.1", host);
	if (len < 20 + 8 + ICMP_PAYLOAD || p[0] != 0x45 || p[9] != 1 || memcmp(p + 12, board, 4) ||
	    memcmp(p + 16, host, 4) || checksum(p, 20))
		return;
	const uint8_t *icmp = p + 20;
	size_t icmp_len = len - 20;
	if (icmp[0] != 0 || (icmp[4] << 8 | icmp[5]) != ICMP_ID ||
	    (icmp[6] << 8 | icmp[7]) != seen.icmp_seq_wanted || checksum(icmp, icmp_len))
		return;
	for (int i = 0; i < ICMP_PAYLOAD; i++) {
		if (icmp[8 + i] != (uint8_t)(i + 0x20))
			return;
	}
	seen.echo_reply_ok = true;
	seen.echo_reply_len = len;
}

static void handle_control(const uint8_t *payload, size_t len)
{
	struct proto_control msg;

	if (proto_control_decode(payload, len, &msg) != PROTO_CONTROL_OK)
		return;
	if (msg.type == PROTO_HELLO) {
		seen.hellos++;
		seen.hello = msg.hello;
		send_config(); /* the host answers every board HELLO with CONFIG */
	} else if (msg.type == PROTO_KEEPALIVE && !msg.keepalive.has_echo) {
		struct proto_control answer = { .type = PROTO_KEEPALIVE };
		answer.keepalive.seq = seq++;
		answer.keepalive.has_echo = true;
		answer.keepalive.echo = msg.keepalive.seq;
		send_control(&answer);
	} else if (msg.type == PROTO_ERROR) {
		seen.errors++;
		fprintf(stderr, "fake_host: board sent ERROR %u: %s\n", msg.error.code,
			msg.error.text);
	}
}

static void close_conn(void)
{
	if (conn_fd >= 0)
		close(conn_fd);
	conn_fd = -1;
	seen.closed = true;
}

static void read_conn(void)
{
	size_t room;
	uint8_t *tail = stream_rx_tail(&rx, &room);
	ssize_t n = recv(conn_fd, tail, room, MSG_DONTWAIT);
	const uint8_t *bundle;
	size_t len;
	enum proto_bundle_status reason;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close_conn();
		return;
	}
	if (n < 0)
		return;
	stream_rx_produced(&rx, (size_t)n);
	for (;;) {
		enum stream_result result = stream_rx_next(&rx, &bundle, &len, &reason);
		if (result == STREAM_BAD_HEADER) {
			fprintf(stderr, "fake_host: bad header from board: %s\n",
				proto_bundle_status_name(reason));
			close_conn();
			return;
		}
		if (result != STREAM_BUNDLE)
			return;
		if (proto_bundle_check(bundle, len, RX_LIMIT) != PROTO_BUNDLE_OK) {
			fprintf(stderr, "fake_host: malformed bundle from board\n");
			continue;
		}
		struct proto_frame_iter iter;
		struct proto_frame frame;
		proto_frames_begin(&iter, bundle, len);
		while (proto_frames_next(&iter, &frame)) {
			if (frame.channel == PROTO_CHANNEL_CONTROL)
				handle_control(frame.payload, frame.len);
			else if (frame.channel == PROTO_CHANNEL_IP)
				check_ip_frame(frame.payload, frame.len);
		}
	}
}

/* Serves the connection for up to ms, or until *done becomes true. */
static void pump(int ms, const bool *done)
{
	uint64_t deadline = clock_now_ms() + (uint64_t)ms;

	while (!(done && *done)) {
		uint64_t now = clock_now_ms();
		if (now >= deadline)
			return;
		if (conn_fd >= 0 && now - last_tx_ms >= 1000) {
			struct proto_control keepalive = { .type = PROTO_KEEPALIVE };
			keepalive.keepalive.seq = seq++;
			send_control(&keepalive);
		}
		struct pollfd pfd = { .fd = conn_fd >= 0 ? conn_fd : listen_fd, .events = POLLIN };
		int timeout = (int)(deadline - now > 100 ? 100 : deadline - now);
		if (pfd.fd < 0) {
			usleep((useconds_t)timeout * 1000);
			continue;
		}
		if (poll(&pfd, 1, timeout) > 0 && conn_fd >= 0)
			read_conn();
		else if (pfd.revents && conn_fd < 0)
			return; /* a connection is waiting: let the caller accept it */
	}
}

static int do_listen(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path);
	unlink(socket_path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(listen_fd, 4))
		return -1;
	return 0;
}

static void do_accept(int seconds)
{
	uint64_t start = clock_now_ms();
	struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };

	if (listen_fd < 0 || poll(&pfd, 1, seconds * 1000) <= 0) {
		reply("fail no connection within %d s", seconds);
		return;
	}
	conn_fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn_fd < 0) {
		reply("fail accept: %s", strerror(errno));
		return;
	}
	uint64_t connected = clock_now_ms() - start;
	stream_rx_init(&rx, rx_buf, RX_LIMIT);
	seen.closed = false;
	seen.hellos = 0;
	send_hello(); /* the host speaks first */
	bool done = false;
	uint64_t deadline = clock_now_ms() + (uint64_t)seconds * 1000;
	while (!done && clock_now_ms() < deadline) {
		pump(100, NULL);
		done = seen.hellos >= 2 || seen.closed; /* on link up + reply */
	}
	if (seen.hellos < 1) {
		reply("fail no HELLO from the board");
		return;
	}
	const struct proto_hello *h = &seen.hello;
	reply("ok connected_ms=%llu hellos=%u role=%u version=%u-%u max_bundle=%u mtu=%u serial=%s software=%s caps=%u",
	      (unsigned long long)connected, seen.hellos, h->role, h->version_min, h->version_max,
	      h->max_bundle, h->mtu, h->serial, h->software, h->caps);
}

static void do_rehello(int seconds)
{
	unsigned before = seen.hellos;

	send_hello();
	uint64_t deadline = clock_now_ms() + (uint64_t)seconds * 1000;
	while (seen.hellos == before && !seen.closed && clock_now_ms() < deadline)
		pump(50, NULL);
	if (seen.hellos == before)
		reply("fail no HELLO reply");
	else
		reply("ok hello reply");
}

static void do_ping(int seconds)
{
	uint8_t packet[128];
	static uint16_t icmp_seq = 1;

	seen.echo_reply_ok = false;
	seen.icmp_seq_wanted = icmp_seq;
	size_t len = make_echo_request(packet, icmp_seq++);
	if (conn_fd < 0 || send_frame(PROTO_CHANNEL_IP, packet, len)) {
		reply("fail cannot send the echo request");
		return;
	}
	pump(seconds * 1000, &seen.echo_reply_ok);
	if (seen.echo_reply_ok)
		reply("ok echo reply %zu bytes", seen.echo_reply_len);
	else
		reply("fail no echo reply within %d s", seconds);
}

/* Bundles that the board must drop or skip without losing the stream. */
static void do_malformed(void)
{
	static uint8_t bundle[256];
	struct proto_builder builder;
	uint8_t ip[40] = { 0x45 };
	size_t len;

	/* truncated-frame: the frame says 5 bytes more than the bundle holds */
	proto_builder_init(&builder, bundle, sizeof(bundle));
	proto_builder_add(&builder, PROTO_CHANNEL_IP, ip, sizeof(ip));
	len = proto_builder_finish(&builder);
	put_le32(bundle + 12, sizeof(ip) + 5);
	int rc = send_all(bundle, len);
	/* unknown channel, malformed control, IP frame with version 5, short IP */
	proto_builder_init(&builder, bundle, sizeof(bundle));
	proto_builder_add(&builder, 7, (const uint8_t *)"\xde\xad", 2);
	proto_builder_add(&builder, PROTO_CHANNEL_CONTROL, (const uint8_t *)"\x03\x00\x30\x00\x09", 5);
	ip[0] = 0x55;
	proto_builder_add(&builder, PROTO_CHANNEL_IP, ip, sizeof(ip));
	proto_builder_add(&builder, PROTO_CHANNEL_IP, ip, 10);
	rc |= send_all(bundle, proto_builder_finish(&builder));
	pump(200, NULL);
	if (rc || conn_fd < 0)
		reply("fail the connection did not survive malformed bundles");
	else
		reply("ok sent malformed bundles");
}

static void do_badheader(int seconds)
{
	const uint8_t bad[8] = { 'x', 'x', 1, 0, 8, 0, 0, 0 };

	if (conn_fd < 0 || send_all(bad, sizeof(bad))) {
		reply("fail no connection");
		return;
	}
	pump(seconds * 1000, &seen.closed);
	reply(seen.closed ? "ok board closed the connection" : "fail connection still open");
}

/* Stops reading (but keeps sending keepalives): the board's socket fills up
 * and it must hold back, not drop or buffer without bound. */
static void do_stall(int seconds)
{
	uint64_t deadline = clock_now_ms() + (uint64_t)seconds * 1000;

	while (conn_fd >= 0 && clock_now_ms() < deadline) {
		if (clock_now_ms() - last_tx_ms >= 1000) {
			struct proto_control keepalive = { .type = PROTO_KEEPALIVE };
			keepalive.keepalive.seq = seq++;
			send_control(&keepalive);
		}
		usleep(50000);
	}
	pump(500, NULL); /* catch up with the backlog */
	reply(conn_fd >= 0 ? "ok stalled %d s" : "fail connection lost while stalled", seconds);
}

/* Sends nothing at all: the board must give up on the host after 5 s. */
static void do_silent(int seconds)
{
	uint64_t start = clock_now_ms(), deadline = start + (uint64_t)seconds * 1000;
	struct pollfd pfd = { .fd = conn_fd, .events = POLLIN };
	uint8_t scratch[65536];

	while (conn_fd >= 0 && clock_now_ms() < deadline) {
		if (poll(&pfd, 1, 100) > 0) {
			ssize_t n = recv(conn_fd, scratch, sizeof(scratch), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				close_conn();
		}
	}
	if (conn_fd >= 0)
		reply("fail the board kept the connection for %d s of silence", seconds);
	else
		reply("ok board closed the connection after %llu ms",
		      (unsigned long long)(clock_now_ms() - start));
}

static void do_close(void)
{
	close_conn();
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
	unlink(socket_path);
	reply("ok closed");
}

int main(int argc, char **argv)
{
	char line[256];

	if (argc < 2) {
		fprintf(stderr, "usage: fake_host SOCKET [--ipv6]\n");
		return 2;
	}
	socket_path = argv[1];
	with_ipv6 = argc > 2 && !strcmp(argv[2], "--ipv6");
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (;;) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		if (poll(&pfd, 1, 100) <= 0) {
			if (conn_fd >= 0)
				pump(50, NULL);
			continue;
		}
		if (!fgets(line, sizeof(line), stdin))
			break;
		int seconds = 5;
		char command[32];
		if (sscanf(line, "%31s %d", command, &seconds) < 1)
			continue;
		if (!strcmp(command, "listen")) {
			if (do_listen())
				reply("fail listen: %s", strerror(errno));
			else
				reply("ok listening");
		} else if (!strcmp(command, "accept"))
			do_accept(seconds);
		else if (!strcmp(command, "rehello"))
			do_rehello(seconds);
		else if (!strcmp(command, "ping"))
			do_ping(seconds);
		else if (!strcmp(command, "malformed"))
			do_malformed();
		else if (!strcmp(command, "badheader"))
			do_badheader(seconds);
		else if (!strcmp(command, "stall"))
			do_stall(seconds);
		else if (!strcmp(command, "silent"))
			do_silent(seconds);
		else if (!strcmp(command, "close"))
			do_close();
		else if (!strcmp(command, "quit"))
			break;
		else
			reply("fail unknown command %s", command);
	}
	close_conn();
	if (listen_fd >= 0)
		close(listen_fd);
	return 0;
}
