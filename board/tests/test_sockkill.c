/* Unit tests for src/sockkill.c's pure part: the sock_diag requests byte by
 * byte, the dump and ack parsers on kernel-shaped and broken replies, which
 * sockets are ended, and the poke packet (checksums checked independently).
 * Usage: test_sockkill | test_sockkill --write-corpus DIR (fuzz_sockkill seeds) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "sockkill.h"

CHECKS_DEFINE;

static struct sockkill_addrs board_addrs(void)
{
	struct sockkill_addrs addrs = { 0 };
	uint8_t v4[4], v6[16];

	inet_pton(AF_INET, "10.113.98.2", v4);
	inet_pton(AF_INET6, "fd71:6200::2", v6);
	sockkill_addrs_add(&addrs, AF_INET, v4);
	sockkill_addrs_add(&addrs, AF_INET6, v6);
	return addrs;
}

/* A socket as the kernel dumps it: addresses as text, ports in host order. */
static struct inet_diag_msg sock(int family, const char *src, int sport, const char *dst, int dport,
				 int state)
{
	struct inet_diag_msg m;

	memset(&m, 0, sizeof(m));
	m.idiag_family = (uint8_t)family;
	m.idiag_state = (uint8_t)state;
	m.id.idiag_sport = htons((uint16_t)sport);
	m.id.idiag_dport = htons((uint16_t)dport);
	inet_pton(family, src, m.id.idiag_src);
	inet_pton(family, dst, m.id.idiag_dst);
	m.id.idiag_cookie[0] = 0x11223344;
	m.id.idiag_cookie[1] = 0x55667788;
	m.idiag_inode = 4242;
	return m;
}

/* Appends a netlink message (header, payload, padding) to buf at *len. */
static void append(uint8_t *buf, size_t *len, uint16_t type, uint32_t seq, const void *payload,
		   size_t payload_len)
{
	struct nlmsghdr h = { .nlmsg_len = (uint32_t)NLMSG_LENGTH(payload_len), .nlmsg_type = type,
			      .nlmsg_seq = seq };

	memset(buf + *len, 0, NLMSG_SPACE(payload_len));
	memcpy(buf + *len, &h, sizeof(h));
	memcpy(buf + *len + NLMSG_HDRLEN, payload, payload_len);
	*len += NLMSG_SPACE(payload_len);
}

static void test_requests(void)
{
	uint8_t buf[SOCKKILL_REQUEST_MAX];
	struct nlmsghdr h;
	struct inet_diag_req_v2 r;

	size_t len = sockkill_dump_request(buf, sizeof(buf), AF_INET6, 77);
	CHECK(len == NLMSG_LENGTH(sizeof(r)), "dump request length %zu", len);
	memcpy(&h, buf, sizeof(h));
	memcpy(&r, buf + NLMSG_HDRLEN, sizeof(r));
	CHECK(h.nlmsg_len == len && h.nlmsg_type == SOCK_DIAG_BY_FAMILY &&
	      h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_DUMP) && h.nlmsg_seq == 77 && h.nlmsg_pid == 0,
	      "dump header: type %u flags 0x%x seq %u", h.nlmsg_type, h.nlmsg_flags, h.nlmsg_seq);
	CHECK(r.sdiag_family == AF_INET6 && r.sdiag_protocol == IPPROTO_TCP && r.idiag_ext == 0,
	      "dump of TCP over IPv6");
	CHECK(r.idiag_states == ((1u << 1) | (1u << 4) | (1u << 5) | (1u << 8) | (1u << 9) | (1u << 11)),
	      "states with a peer: 0x%x", r.idiag_states);

	struct inet_diag_msg s = sock(AF_INET, "10.113.98.2", 40000, "198.51.100.2", 80, 1);
	len = sockkill_destroy_request(buf, sizeof(buf), &s, 78);
	memcpy(&h, buf, sizeof(h));
	memcpy(&r, buf + NLMSG_HDRLEN, sizeof(r));
	CHECK(len == NLMSG_LENGTH(sizeof(r)) && h.nlmsg_type == SOCK_DESTROY &&
	      h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK) && h.nlmsg_seq == 78, "destroy header");
	CHECK(r.sdiag_family == AF_INET && r.sdiag_protocol == IPPROTO_TCP &&
	      !memcmp(&r.id, &s.id, sizeof(s.id)), "destroy names the socket by its whole id, cookie included");
	CHECK(sockkill_dump_request(buf, 20, AF_INET, 1) == 0, "too small a buffer");
}

static void test_matches(void)
{
	struct sockkill_addrs addrs = board_addrs();
	struct {
		struct inet_diag_msg s;
		bool end;
		const char *what;
	} cases[] = {
		{ sock(AF_INET, "10.113.98.2", 40000, "198.51.100.2", 80, 1), true, "established from the board" },
		{ sock(AF_INET, "10.113.98.2", 40000, "198.51.100.2", 80, 8), true, "close-wait" },
		{ sock(AF_INET, "10.113.98.2", 22, "10.113.98.1", 49152, 4), true, "a forwarded connection, fin-wait-1" },
		{ sock(AF_INET6, "fd71:6200::2", 40000, "fd51:6274::2", 443, 1), true, "over IPv6" },
		{ sock(AF_INET6, "::ffff:10.113.98.2", 40000, "::ffff:198.51.100.2", 80, 1), true,
		  "IPv4 on an IPv6 socket (v4-mapped)" },
		{ sock(AF_INET, "192.168.7.2", 40000, "198.51.100.2", 80, 1), false, "another interface's address" },
		{ sock(AF_INET, "10.113.98.2", 40000, "10.113.98.2", 5000, 1), false, "the board to itself" },
		{ sock(AF_INET, "10.113.98.2", 22, "0.0.0.0", 0, 10), false, "a listener" },
		{ sock(AF_INET, "10.113.98.2", 40000, "198.51.100.2", 80, 6), false, "time-wait" },
		{ sock(AF_INET, "10.113.98.2", 40000, "198.51.100.2", 80, 2), false, "syn-sent: retries on its own" },
		{ sock(AF_INET, "10.113.98.2", 40000, "198.51.100.2", 80, 40), false, "a state past 31" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(sockkill_matches(&cases[i].s, &addrs) == cases[i].end, "%s", cases[i].what);
	struct inet_diag_msg odd = cases[0].s;
	odd.idiag_family = AF_UNIX;
	CHECK(!sockkill_matches(&odd, &addrs), "not an inet family");
	struct sockkill_addrs full = { 0 };
	uint8_t a[4] = { 10, 0, 0, 0 };
	for (int i = 0; i < SOCKKILL_ADDRS_MAX; i++) {
		a[3] = (uint8_t)i;
		CHECK(sockkill_addrs_add(&full, AF_INET, a), "address %d", i);
	}
	CHECK(sockkill_addrs_add(&full, AF_INET, a) && full.count == SOCKKILL_ADDRS_MAX, "a repeat is no new entry");
	a[3] = 99;
	CHECK(!sockkill_addrs_add(&full, AF_INET, a), "no room");
}

struct found {
	unsigned count;
	uint16_t ports[8];
};

static void on_found(void *ctx, const struct inet_diag_msg *s)
{
	struct found *f = ctx;

	if (f->count < 8)
		f->ports[f->count] = ntohs(s->id.idiag_sport);
	f->count++;
}

static void test_parse_dump(void)
{
	struct sockkill_addrs addrs = board_addrs();
	uint8_t buf[4096];
	size_t len = 0;
	int error, zero = 0;
	struct found f = { 0 };

	struct inet_diag_msg a = sock(AF_INET, "10.113.98.2", 40001, "198.51.100.2", 80, 1);
	struct inet_diag_msg b = sock(AF_INET, "192.168.7.2", 40002, "198.51.100.2", 80, 1);
	struct inet_diag_msg c = sock(AF_INET, "10.113.98.2", 40003, "198.51.100.2", 80, 9);
	append(buf, &len, SOCK_DIAG_BY_FAMILY, 5, &a, sizeof(a));
	append(buf, &len, SOCK_DIAG_BY_FAMILY, 5, &b, sizeof(b));
	append(buf, &len, SOCK_DIAG_BY_FAMILY, 4, &a, sizeof(a)); /* another request's */
	/* A message with attributes after the struct (INET_DIAG_INFO and the like) is fine. */
	uint8_t with_attrs[sizeof(c) + 12];
	memcpy(with_attrs, &c, sizeof(c));
	memset(with_attrs + sizeof(c), 0xAB, 12);
	append(buf, &len, SOCK_DIAG_BY_FAMILY, 5, with_attrs, sizeof(with_attrs));
	CHECK(sockkill_parse_dump(buf, len, 5, &addrs, on_found, &f, &error) == SOCKKILL_MORE && !error,
	      "a datagram without DONE: more to come");
	CHECK(f.count == 2 && f.ports[0] == 40001 && f.ports[1] == 40003, "found %u: %u %u", f.count,
	      f.ports[0], f.ports[1]);

	len = 0;
	append(buf, &len, NLMSG_DONE, 5, &zero, sizeof(zero));
	CHECK(sockkill_parse_dump(buf, len, 5, &addrs, on_found, &f, &error) == SOCKKILL_DONE && !error, "DONE");

	len = 0;
	int eperm = -EPERM;
	append(buf, &len, NLMSG_ERROR, 5, &eperm, sizeof(eperm));
	CHECK(sockkill_parse_dump(buf, len, 5, &addrs, on_found, &f, &error) == SOCKKILL_FAILED &&
	      error == -EPERM, "an error answer: %d", error);

	len = 0;
	append(buf, &len, SOCK_DIAG_BY_FAMILY, 5, &a, sizeof(a) - 1);
	CHECK(sockkill_parse_dump(buf, len, 5, &addrs, on_found, &f, &error) == SOCKKILL_FAILED &&
	      error == -EBADMSG, "a short socket message");

	len = 0;
	append(buf, &len, SOCK_DIAG_BY_FAMILY, 5, &a, sizeof(a));
	struct nlmsghdr h;
	memcpy(&h, buf, sizeof(h));
	h.nlmsg_len = (uint32_t)len + 1;
	memcpy(buf, &h, sizeof(h));
	CHECK(sockkill_parse_dump(buf, len, 5, &addrs, on_found, &f, &error) == SOCKKILL_FAILED,
	      "a length past the datagram");
	h.nlmsg_len = 3;
	memcpy(buf, &h, sizeof(h));
	CHECK(sockkill_parse_dump(buf, len, 5, &addrs, on_found, &f, &error) == SOCKKILL_FAILED,
	      "a length shorter than the header");
	CHECK(sockkill_parse_dump(buf, 7, 5, &addrs, on_found, &f, &error) == SOCKKILL_FAILED,
	      "a datagram shorter than a header");
	CHECK(sockkill_parse_dump(buf, 0, 5, &addrs, on_found, &f, &error) == SOCKKILL_MORE, "an empty one");
	len = 0;
	int positive = 5;
	append(buf, &len, NLMSG_DONE, 5, &positive, sizeof(positive));
	CHECK(sockkill_parse_dump(buf, len, 5, &addrs, on_found, &f, &error) == SOCKKILL_FAILED &&
	      error == -EBADMSG, "DONE with a nonsense error");
}

static void test_parse_ack(void)
{
	uint8_t buf[256] = { 0 };
	size_t len = 0;
	int error;
	struct nlmsgerr answer = { .error = 0 };

	CHECK(sockkill_parse_ack(buf, 0, 9, &error) == SOCKKILL_MORE, "nothing yet");
	append(buf, &len, NLMSG_ERROR, 8, &answer, sizeof(answer)); /* an older request's */
	answer.error = -EOPNOTSUPP;
	append(buf, &len, NLMSG_ERROR, 9, &answer, sizeof(answer));
	CHECK(sockkill_parse_ack(buf, len, 9, &error) == SOCKKILL_DONE && error == -EOPNOTSUPP,
	      "the kernel lacks CONFIG_INET_DIAG_DESTROY: %d", error);
	len = 0;
	answer.error = 0;
	append(buf, &len, NLMSG_ERROR, 9, &answer, sizeof(answer));
	CHECK(sockkill_parse_ack(buf, len, 9, &error) == SOCKKILL_DONE && error == 0, "destroyed");
	len = 0;
	append(buf, &len, NLMSG_ERROR, 9, &answer, 2);
	CHECK(sockkill_parse_ack(buf, len, 9, &error) == SOCKKILL_FAILED, "a short error message");
}

/* Checksums computed here apart from the code: RFC 1071, byte by byte. */
static unsigned sum16(const uint8_t *p, size_t len, unsigned sum)
{
	for (size_t i = 0; i < len; i++)
		sum += i % 2 ? p[i] : (unsigned)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static void test_poke(void)
{
	uint8_t p[SOCKKILL_POKE_MAX];
	uint8_t pseudo[40];

	struct inet_diag_msg s4 = sock(AF_INET, "10.113.98.2", 40000, "198.51.100.2", 80, 1);
	size_t len = sockkill_poke(p, sizeof(p), &s4, 0x80000001u);
	CHECK(len == 40 && p[0] == 0x45 && p[9] == IPPROTO_TCP && p[2] == 0 && p[3] == 40, "IPv4 + TCP, 40 bytes");
	CHECK(sum16(p, 20, 0) == 0xffff, "IPv4 header checksum");
	CHECK(!memcmp(p + 12, s4.id.idiag_dst, 4) && !memcmp(p + 16, s4.id.idiag_src, 4), "from the peer to the board");
	CHECK(p[20] == 0 && p[21] == 80 && p[22] == 0x9c && p[23] == 0x40, "ports: 80 -> 40000");
	CHECK(p[24] == 0x80 && p[25] == 0 && p[26] == 0 && p[27] == 1, "the sequence number given");
	CHECK(p[32] == 0x50 && p[33] == 0x10, "a bare ACK");
	memcpy(pseudo, p + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = 0;
	pseudo[11] = 20;
	CHECK(sum16(p + 20, 20, sum16(pseudo, 12, 0)) == 0xffff, "TCP checksum");

	struct inet_diag_msg s6 = sock(AF_INET6, "fd71:6200::2", 40000, "fd51:6274::2", 443, 1);
	len = sockkill_poke(p, sizeof(p), &s6, 7);
	CHECK(len == 60 && p[0] == 0x60 && p[6] == IPPROTO_TCP && p[5] == 20, "IPv6 + TCP, 60 bytes");
	CHECK(!memcmp(p + 8, s6.id.idiag_dst, 16) && !memcmp(p + 24, s6.id.idiag_src, 16), "IPv6 addresses");
	memcpy(pseudo, p + 8, 32);
	uint8_t rest[8] = { 0, 0, 0, 20, 0, 0, 0, IPPROTO_TCP };
	CHECK(sum16(p + 40, 20, sum16(rest, 8, sum16(pseudo, 32, 0))) == 0xffff, "TCP over IPv6 checksum");

	struct inet_diag_msg mapped = sock(AF_INET6, "::ffff:10.113.98.2", 40000, "::ffff:198.51.100.2", 80, 1);
	len = sockkill_poke(p, sizeof(p), &mapped, 1);
	CHECK(len == 40 && p[0] == 0x45 && p[12] == 198 && p[16] == 10, "a v4-mapped socket is poked over IPv4");
	CHECK(sockkill_poke(p, 39, &s4, 1) == 0, "too small a buffer");
}

static unsigned injected, injected_bad;

static bool count_injected(void *ctx, const uint8_t *packet, size_t len)
{
	(void)ctx;
	(void)packet;
	injected++;
	if (len != 40)
		injected_bad++;
	return true;
}

/* A real connection on loopback from 127.113.98.2 (an address nothing else uses) to 127.0.0.1. */
static bool loopback_pair(int *client, int *server, int *listener)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);

	*listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	*client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (*listener < 0 || *client < 0 || bind(*listener, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(*listener, 1) || getsockname(*listener, (struct sockaddr *)&addr, &len))
		return false;
	struct sockaddr_in from = { .sin_family = AF_INET };
	inet_pton(AF_INET, "127.113.98.2", &from.sin_addr);
	if (bind(*client, (struct sockaddr *)&from, sizeof(from)) ||
	    connect(*client, (struct sockaddr *)&addr, sizeof(addr)))
		return false;
	*server = accept(*listener, NULL, NULL);
	return *server >= 0;
}

/* sockkill_run against this kernel: the connection from the "board" address is found and ended
 * (destroyed as root on a kernel with CONFIG_INET_DIAG_DESTROY, else poked); its peer is not. */
static void test_run_on_loopback(void)
{
	struct sockkill_addrs addrs = { 0 };
	uint8_t board[4] = { 127, 113, 98, 2 };
	struct sockkill_report r;
	int client, server, listener;

	sockkill_addrs_add(&addrs, AF_INET, board);
	if (!loopback_pair(&client, &server, &listener)) {
		CHECK(false, "cannot set up a loopback connection: %s", strerror(errno));
		return;
	}
	injected = injected_bad = 0;
	sockkill_run(&addrs, true, count_injected, NULL, &r);
	CHECK(r.error == 0, "dump: %s", strerror(-r.error));
	CHECK(r.found == 1, "the one connection from 127.113.98.2 (found %u)", r.found);
	if (r.destroyed == 1) {
		char byte;
		ssize_t n = recv(client, &byte, 1, MSG_DONTWAIT);
		CHECK(n < 0 && errno == ECONNABORTED, "its application gets ECONNABORTED (%zd, %s)", n, strerror(errno));
		printf("test_sockkill: SOCK_DESTROY works on this kernel\n");
	} else {
		CHECK(r.destroy_error != 0 && r.poked == 1 && injected == 2 && !injected_bad,
		      "refused (%s): poked instead, two 40-byte packets (%u)", strerror(-r.destroy_error), injected);
		printf("test_sockkill: SOCK_DESTROY refused here (%s): the poke was tested\n", strerror(-r.destroy_error));
	}

	/* Without destroy: poked, whatever the kernel can do. */
	int c2, s2, l2;
	if (loopback_pair(&c2, &s2, &l2)) {
		injected = injected_bad = 0;
		sockkill_run(&addrs, false, count_injected, NULL, &r);
		CHECK(r.found == 1 && r.poked == 1 && r.destroyed == 0 && injected == 2, "poked only (found %u, poked %u)",
		      r.found, r.poked);
		close(c2);
		close(s2);
		close(l2);
	}
	close(client);
	close(server);
	close(listener);
}

static int write_corpus(const char *dir)
{
	struct inet_diag_msg a = sock(AF_INET, "10.113.98.2", 40001, "198.51.100.2", 80, 1);
	struct inet_diag_msg b = sock(AF_INET6, "fd71:6200::2", 40002, "fd51:6274::2", 443, 8);
	uint8_t buf[1024];
	size_t len = 0;
	int zero = 0;

	/* The fuzz target takes the first byte as the request's seq. */
	buf[len++] = 5;
	append(buf, &len, SOCK_DIAG_BY_FAMILY, 5, &a, sizeof(a));
	append(buf, &len, SOCK_DIAG_BY_FAMILY, 5, &b, sizeof(b));
	append(buf, &len, NLMSG_DONE, 5, &zero, sizeof(zero));
	return checks_write_seed(dir, "dump", buf, len) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	test_requests();
	test_matches();
	test_parse_dump();
	test_parse_ack();
	test_poke();
	test_run_on_loopback();
	return checks_report("test_sockkill");
}
