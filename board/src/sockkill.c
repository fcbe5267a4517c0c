/* Ends the board's TCP connections of a host driver that is gone: sock_diag
 * dump, SOCK_DESTROY each (as `ss -K` does), or a poke that makes the board's
 * TCP speak to the new host, which resets the flow it does not know. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"
#include "sockkill.h"

#define RECV_BUF 32768
#define TCP_FLAG_ACK 0x10

bool sockkill_addrs_add(struct sockkill_addrs *addrs, uint8_t family, const uint8_t *addr)
{
	size_t len = family == AF_INET ? 4 : 16;

	for (unsigned i = 0; i < addrs->count; i++)
		if (addrs->addr[i].family == family && !memcmp(addrs->addr[i].addr, addr, len))
			return true;
	if (addrs->count == SOCKKILL_ADDRS_MAX)
		return false;
	memset(addrs->addr[addrs->count].addr, 0, sizeof(addrs->addr[0].addr));
	addrs->addr[addrs->count].family = family;
	memcpy(addrs->addr[addrs->count].addr, addr, len);
	addrs->count++;
	return true;
}

/* A netlink request for inet_diag_req_v2 req; 0 if it does not fit. */
static size_t request(uint8_t *buf, size_t cap, uint16_t type, uint16_t flags, uint32_t seq,
		      const struct inet_diag_req_v2 *req)
{
	struct nlmsghdr hdr = {
		.nlmsg_len = NLMSG_LENGTH(sizeof(*req)),
		.nlmsg_type = type,
		.nlmsg_flags = flags,
		.nlmsg_seq = seq,
	};

	if (cap < hdr.nlmsg_len)
		return 0;
	memset(buf, 0, hdr.nlmsg_len);
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + NLMSG_HDRLEN, req, sizeof(*req));
	return hdr.nlmsg_len;
}

size_t sockkill_dump_request(uint8_t *buf, size_t cap, uint8_t family, uint32_t seq)
{
	struct inet_diag_req_v2 req = {
		.sdiag_family = family,
		.sdiag_protocol = IPPROTO_TCP,
		.idiag_states = SOCKKILL_STATES,
	};

	return request(buf, cap, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, seq, &req);
}

size_t sockkill_destroy_request(uint8_t *buf, size_t cap, const struct inet_diag_msg *sock,
				uint32_t seq)
{
	struct inet_diag_req_v2 req = {
		.sdiag_family = sock->idiag_family,
		.sdiag_protocol = IPPROTO_TCP,
		.id = sock->id,
	};

	return request(buf, cap, SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK, seq, &req);
}

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* An address of a dump as (family, bytes): a v4-mapped IPv6 one as IPv4. */
static const uint8_t *address(const struct inet_diag_msg *sock, const __be32 *words, uint8_t *family)
{
	const uint8_t *bytes = (const uint8_t *)words;

	*family = sock->idiag_family;
	if (sock->idiag_family == AF_INET6 && !memcmp(bytes, v4_mapped, sizeof(v4_mapped))) {
		*family = AF_INET;
		return bytes + 12;
	}
	return bytes;
}

static bool is_local(const struct sockkill_addrs *addrs, uint8_t family, const uint8_t *addr)
{
	for (unsigned i = 0; i < addrs->count; i++)
		if (addrs->addr[i].family == family &&
		    !memcmp(addrs->addr[i].addr, addr, family == AF_INET ? 4 : 16))
			return true;
	return false;
}

bool sockkill_matches(const struct inet_diag_msg *sock, const struct sockkill_addrs *addrs)
{
	uint8_t src_family, dst_family;

	if (sock->idiag_family != AF_INET && sock->idiag_family != AF_INET6)
		return false;
	if (sock->idiag_state >= 32 || !(SOCKKILL_STATES & (1u << sock->idiag_state)))
		return false;
	const uint8_t *src = address(sock, sock->id.idiag_src, &src_family);
	const uint8_t *dst = address(sock, sock->id.idiag_dst, &dst_family);
	return is_local(addrs, src_family, src) && !is_local(addrs, dst_family, dst);
}

/* The next netlink message of buf at *offset: 1 with hdr and payload, 0 at the end, -1 malformed. */
static int next_message(const uint8_t *buf, size_t len, size_t *offset, struct nlmsghdr *hdr,
			const uint8_t **payload, size_t *payload_len)
{
	if (*offset == len)
		return 0;
	if (len - *offset < sizeof(*hdr))
		return -1;
	memcpy(hdr, buf + *offset, sizeof(*hdr)); /* the datagram need not be aligned */
	if (hdr->nlmsg_len < NLMSG_HDRLEN || hdr->nlmsg_len > len - *offset)
		return -1;
	*payload = buf + *offset + NLMSG_HDRLEN;
	*payload_len = hdr->nlmsg_len - NLMSG_HDRLEN;
	size_t step = NLMSG_ALIGN(hdr->nlmsg_len);
	*offset += step < len - *offset ? step : len - *offset;
	return 1;
}

/* The error of an NLMSG_ERROR or NLMSG_DONE payload: 0 or a negative errno; -EBADMSG if short. */
static int message_error(const uint8_t *payload, size_t len)
{
	int error;

	if (len < sizeof(error))
		return -EBADMSG;
	memcpy(&error, payload, sizeof(error));
	return error > 0 || error < -4095 ? -EBADMSG : error;
}

enum sockkill_status sockkill_parse_dump(const uint8_t *buf, size_t len, uint32_t seq,
					 const struct sockkill_addrs *addrs,
					 void (*found)(void *ctx, const struct inet_diag_msg *sock),
					 void *ctx, int *error)
{
	size_t offset = 0, payload_len;
	const uint8_t *payload;
	struct nlmsghdr hdr;
	int more;

	*error = 0;
	while ((more = next_message(buf, len, &offset, &hdr, &payload, &payload_len)) > 0) {
		if (hdr.nlmsg_seq != seq)
			continue;
		switch (hdr.nlmsg_type) {
		case NLMSG_DONE:
			*error = payload_len ? message_error(payload, payload_len) : 0;
			return *error ? SOCKKILL_FAILED : SOCKKILL_DONE;
		case NLMSG_ERROR:
			*error = message_error(payload, payload_len);
			if (!*error)
				*error = -EBADMSG; /* a dump is not acknowledged */
			return SOCKKILL_FAILED;
		case SOCK_DIAG_BY_FAMILY: {
			struct inet_diag_msg sock;
			if (payload_len < sizeof(sock)) {
				*error = -EBADMSG;
				return SOCKKILL_FAILED;
			}
			memcpy(&sock, payload, sizeof(sock));
			if (sockkill_matches(&sock, addrs))
				found(ctx, &sock);
			break;
		}
		default:
			break;
		}
	}
	if (more < 0) {
		*error = -EBADMSG;
		return SOCKKILL_FAILED;
	}
	return SOCKKILL_MORE;
}

enum sockkill_status sockkill_parse_ack(const uint8_t *buf, size_t len, uint32_t seq, int *error)
{
	size_t offset = 0, payload_len;
	const uint8_t *payload;
	struct nlmsghdr hdr;
	int more;

	*error = 0;
	while ((more = next_message(buf, len, &offset, &hdr, &payload, &payload_len)) > 0) {
		if (hdr.nlmsg_seq != seq || hdr.nlmsg_type != NLMSG_ERROR)
			continue;
		*error = message_error(payload, payload_len);
		return *error == -EBADMSG ? SOCKKILL_FAILED : SOCKKILL_DONE;
	}
	if (more < 0) {
		*error = -EBADMSG;
		return SOCKKILL_FAILED;
	}
	return SOCKKILL_MORE;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

/* The ones' complement sum of len bytes, added to sum. */
static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t sockkill_poke(uint8_t *buf, size_t cap, const struct inet_diag_msg *sock, uint32_t seq)
{
	uint8_t family, peer_family;
	const uint8_t *board = address(sock, sock->id.idiag_src, &family);
	const uint8_t *peer = address(sock, sock->id.idiag_dst, &peer_family);
	size_t addr_len = family == AF_INET ? 4 : 16;
	size_t ip_len = family == AF_INET ? 20 : 40;
	size_t total = ip_len + 20;

	if (cap < total || family != peer_family)
		return 0;
	memset(buf, 0, total);
	uint8_t *tcp = buf + ip_len;
	memcpy(tcp, &sock->id.idiag_dport, 2); /* from the peer's port (network order as dumped) */
	memcpy(tcp + 2, &sock->id.idiag_sport, 2);
	put_be32(tcp + 4, seq);
	tcp[12] = 5 << 4;
	tcp[13] = TCP_FLAG_ACK;
	put_be16(tcp + 14, 65535);
	uint32_t sum = sum_bytes(0, peer, addr_len);
	sum = sum_bytes(sum, board, addr_len);
	sum += IPPROTO_TCP + 20;
	sum = sum_bytes(sum, tcp, 20);
	put_be16(tcp + 16, fold(sum));
	if (family == AF_INET) {
		buf[0] = 0x45;
		put_be16(buf + 2, (uint16_t)total);
		put_be16(buf + 6, 0x4000); /* DF */
		buf[8] = 64;
		buf[9] = IPPROTO_TCP;
		memcpy(buf + 12, peer, 4);
		memcpy(buf + 16, board, 4);
		put_be16(buf + 10, fold(sum_bytes(0, buf, 20)));
	} else {
		buf[0] = 0x60;
		put_be16(buf + 4, 20);
		buf[6] = IPPROTO_TCP;
		buf[7] = 64;
		memcpy(buf + 8, peer, 16);
		memcpy(buf + 24, board, 16);
	}
	return total;
}

/* ---- I/O ---- */

struct collected {
	struct inet_diag_msg *socks;
	unsigned count;
	unsigned dropped;
};

static void collect(void *ctx, const struct inet_diag_msg *sock)
{
	struct collected *c = ctx;

	if (c->count < SOCKKILL_MAX)
		c->socks[c->count++] = *sock;
	else
		c->dropped++;
}

/* Sends a request and reads datagrams until parse says DONE or FAILED; the error, or 0. */
static int exchange(int fd, const uint8_t *req, size_t req_len, uint8_t *buf,
		    enum sockkill_status (*parse)(const uint8_t *buf, size_t len, void *arg, int *error),
		    void *arg)
{
	if (send(fd, req, req_len, 0) != (ssize_t)req_len)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, RECV_BUF, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno; /* EAGAIN: no answer within the receive timeout */
		}
		int error;
		enum sockkill_status status = parse(buf, (size_t)n, arg, &error);
		if (status != SOCKKILL_MORE)
			return error;
	}
}

struct dump_arg {
	uint32_t seq;
	const struct sockkill_addrs *addrs;
	struct collected *collected;
};

static enum sockkill_status parse_dump(const uint8_t *buf, size_t len, void *arg, int *error)
{
	struct dump_arg *d = arg;

	return sockkill_parse_dump(buf, len, d->seq, d->addrs, collect, d->collected, error);
}

static enum sockkill_status parse_ack(const uint8_t *buf, size_t len, void *arg, int *error)
{
	return sockkill_parse_ack(buf, len, *(uint32_t *)arg, error);
}

static bool poke(const struct inet_diag_msg *sock, sockkill_inject_fn inject, void *ctx)
{
	uint8_t packet[SOCKKILL_POKE_MAX];
	/* Two sequence numbers 2^31 apart: no window spans both, so at least one
	 * is outside it and draws an ACK (RFC 9293 3.10.7.4); one inside it is a
	 * bare ACK of nothing, which changes nothing. */
	uint32_t seq = sock->idiag_inode * 2654435761u;
	bool ok = true;

	for (int i = 0; i < 2; i++) {
		size_t len = sockkill_poke(packet, sizeof(packet), sock, seq + (uint32_t)i * 0x80000000u);
		ok = len && inject(ctx, packet, len) && ok;
	}
	return ok;
}

void sockkill_run(const struct sockkill_addrs *addrs, bool destroy, sockkill_inject_fn inject,
		  void *ctx, struct sockkill_report *report)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	struct collected collected = { 0 };
	uint8_t req[SOCKKILL_REQUEST_MAX];
	uint32_t seq = 1;
	uint8_t *buf = NULL;
	int fd = -1;

	memset(report, 0, sizeof(*report));
	collected.socks = calloc(SOCKKILL_MAX, sizeof(*collected.socks));
	buf = malloc(RECV_BUF);
	if (!collected.socks || !buf) {
		report->error = -ENOMEM;
		goto out;
	}
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		report->error = -errno;
		goto out;
	}
	/* The kernel answers at once; a second bounds the wait if it does not. */
	struct timeval timeout = { .tv_sec = 1 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	/* Both families always: an IPv4 connection of an IPv6 socket is dumped as AF_INET6 (v4-mapped). */
	for (size_t i = 0; i < sizeof(families); i++) {
		struct dump_arg arg = { .seq = ++seq, .addrs = addrs, .collected = &collected };
		size_t len = sockkill_dump_request(req, sizeof(req), families[i], arg.seq);
		int error = exchange(fd, req, len, buf, parse_dump, &arg);
		if (error && !report->error)
			report->error = error;
	}
	report->found = collected.count + collected.dropped;
	for (unsigned i = 0; i < collected.count; i++) {
		const struct inet_diag_msg *sock = &collected.socks[i];
		if (destroy) {
			uint32_t ack_seq = ++seq;
			size_t len = sockkill_destroy_request(req, sizeof(req), sock, ack_seq);
			int error = exchange(fd, req, len, buf, parse_ack, &ack_seq);
			if (!error) {
				report->destroyed++;
				continue;
			}
			if (error == -ENOENT) {
				report->gone++;
				continue;
			}
			report->destroy_error = error; /* this kernel will not: poke this one and the rest */
			destroy = false;
		}
		if (poke(sock, inject, ctx))
			report->poked++;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(collected.socks);
}

void sockkill_end_old_connections(const struct sockkill_addrs *addrs, sockkill_inject_fn inject,
				  void *ctx)
{
	static bool told_no_destroy;
	const char *test = getenv("QBNETD_TEST_SOCK_DESTROY");
	bool destroy = !(test && !strcmp(test, "off"));
	struct sockkill_report r;

	sockkill_run(addrs, destroy, inject, ctx, &r);
	if (r.error)
		warn_limited("a new host driver: cannot list the old one's connections (sock_diag: %s); "
			     "they end at their next packet (the new host resets them) or at their application's timeout",
			     strerror(-r.error));
	if (!destroy || r.destroy_error) {
		if (!told_no_destroy) {
			told_no_destroy = true;
			warn("this kernel cannot destroy sockets (%s): connections of an old host driver are "
			     "poked so the new one resets them; build the kernel with CONFIG_INET_DIAG_DESTROY "
			     "to end them at once [said once]",
			     destroy ? strerror(-r.destroy_error) : "QBNETD_TEST_SOCK_DESTROY=off");
		}
	}
	if (r.found || !r.error)
		info_limited("a new host driver: ended the old one's %u TCP connection%s on qb0's addresses "
			     "(%u destroyed, %u poked, %u gone by themselves)",
			     r.found, r.found == 1 ? "" : "s", r.destroyed, r.poked, r.gone);
}
