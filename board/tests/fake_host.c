/* A scripted stand-in for the host driver, for tests/netns-test.sh: listens
 * on a Unix socket, speaks the session (HELLO, CONFIG, KEEPALIVE), plays one
 * end of a TCP connection for the offload tests (PROTOCOL.md section 7) and
 * runs commands read from stdin, answering each with one "ok ..." or
 * "fail ..." line.
 * Usage: fake_host SOCKET [--ipv6]
 * Commands: listen | accept SECS | rehello SECS | ping SECS | malformed |
 *           badheader SECS | stall SECS | silent SECS | close | quit |
 *           caps N (CAPS of later HELLOs; default 2: OFFLOAD) |
 *           mtu N (MTU of later CONFIGs; default 65520) |
 *           maxbundle N (MAX_BUNDLE of later HELLOs; default 262144) |
 *           tcplisten 4|6 PORT | tcprecv BYTES SECS |
 *           tcpsend 4|6 PORT BYTES GSO_SIZE SECS | badoffload */
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
#include "offload.h"
#include "pattern.h"
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
static uint32_t host_caps = PROTO_CAP_OFFLOAD;
static uint16_t config_mtu = 65520;
static uint32_t hello_max_bundle = RX_LIMIT;

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

/* One bundle holding one frame with the given frame flags. */
static int send_frame_flags(uint16_t channel, uint16_t flags, const uint8_t *payload, size_t len)
{
	static uint8_t bundle[RX_LIMIT];
	struct proto_builder builder;

	proto_builder_init(&builder, bundle, sizeof(bundle));
	if (!proto_builder_add(&builder, channel, payload, len))
		return -1;
	put_le16(bundle + PROTO_BUNDLE_HDR_LEN + 2, flags);
	return send_all(bundle, proto_builder_finish(&builder));
}

static int send_frame(uint16_t channel, const uint8_t *payload, size_t len)
{
	return send_frame_flags(channel, 0, payload, len);
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
	msg.hello.max_bundle = hello_max_bundle;
	msg.hello.has_caps = true;
	msg.hello.caps = host_caps;
	msg.hello.software_len = (uint8_t)snprintf(msg.hello.software, sizeof(msg.hello.software),
						   "fake_host test");
	return send_control(&msg);
}

static int send_config(void)
{
	struct proto_control msg = { .type = PROTO_CONFIG };
	struct proto_config *c = &msg.config;

	c->mtu = config_mtu;
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

static void pump(int ms, const bool *done);

/* ---- One TCP connection with the board, for the offload tests ----
 * Just enough TCP for one transfer each way over a lossless link: the
 * handshake, in-order data checked against tests/pattern.h, cumulative ACKs,
 * FIN. It also classifies every packet of the connection that the board
 * sends: its size against the MTU, and whether its checksum is complete or
 * holds only the pseudo-header sum (a partial checksum, section 7). */

#define TCP_HOST_ISS 0x71620000u
#define TCP_WSCALE 7
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_FIN 0x01
#define TCP_PACKET_MAX 65535
#define NEGATIVE_CONTROL_BYTES 1000

static struct {
	int family;			/* 4 or 6; 0: no connection */
	uint8_t host_addr[16], board_addr[16];
	uint16_t host_port, board_port;
	bool listening;			/* waiting for the board's SYN */
	bool established;
	bool fin_received, fin_sent, reset;
	uint32_t snd_nxt, rcv_nxt, board_acked;
	uint64_t received;		/* in-order bytes from the board */
	bool pattern_broken;
	uint64_t pattern_error_at;
	unsigned frames, over_mtu, csum_full, csum_partial, csum_bad, bad_len;
	size_t max_ip_len;
	uint16_t ip_id;
} tcp;

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static uint32_t sum_bytes(const uint8_t *data, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(data[i] << 8 | data[i + 1]);
	if (len & 1)
		sum += (uint32_t)data[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static size_t ip_hdr_len(int family)
{
	return family == 4 ? 20 : 40;
}

/* The TCP pseudo-header sum from src to dst for tcp_len bytes. */
static uint32_t pseudo_sum(int family, const uint8_t *src, const uint8_t *dst, size_t tcp_len)
{
	size_t addr_len = family == 4 ? 4 : 16;
	uint32_t sum = sum_bytes(src, addr_len, 0);

	sum = sum_bytes(dst, addr_len, sum);
	return sum + 6 + (uint32_t)(tcp_len >> 16) + (uint32_t)(tcp_len & 0xffff);
}

enum tcp_csum { CSUM_FULL, CSUM_PARTIAL_ONLY };

/* Builds host -> board IP + TCP with options and payload_len bytes of the
 * pattern from stream offset (inverted when invert). Returns the IP length. */
static size_t build_tcp(uint8_t *packet, uint8_t flags, const uint8_t *options,
			size_t options_len, size_t payload_len, uint64_t offset, bool invert,
			enum tcp_csum csum)
{
	size_t iph = ip_hdr_len(tcp.family), th = 20 + options_len;
	size_t len = iph + th + payload_len;
	uint8_t *t = packet + iph;

	memset(packet, 0, iph + th);
	if (tcp.family == 4) {
		packet[0] = 0x45;
		put_be16(packet + 2, (uint16_t)len);
		put_be16(packet + 4, tcp.ip_id++);
		packet[6] = 0x40; /* DF */
		packet[8] = 64;
		packet[9] = 6;
		memcpy(packet + 12, tcp.host_addr, 4);
		memcpy(packet + 16, tcp.board_addr, 4);
		put_be16(packet + 10, checksum(packet, 20));
	} else {
		packet[0] = 0x60;
		put_be16(packet + 4, (uint16_t)(len - 40));
		packet[6] = 6;
		packet[7] = 64;
		memcpy(packet + 8, tcp.host_addr, 16);
		memcpy(packet + 24, tcp.board_addr, 16);
	}
	put_be16(t, tcp.host_port);
	put_be16(t + 2, tcp.board_port);
	put_be32(t + 4, tcp.snd_nxt);
	put_be32(t + 8, (flags & TCP_ACK) ? tcp.rcv_nxt : 0);
	t[12] = (uint8_t)(th / 4 << 4);
	t[13] = flags;
	put_be16(t + 14, 0xffff);
	if (options_len)
		memcpy(t + 20, options, options_len);
	for (size_t i = 0; i < payload_len; i++) {
		uint8_t byte = pattern_byte(offset + i);
		t[th + i] = invert ? (uint8_t)~byte : byte;
	}
	uint32_t pseudo = pseudo_sum(tcp.family, tcp.host_addr, tcp.board_addr, th + payload_len);
	if (csum == CSUM_FULL)
		put_be16(t + 16, (uint16_t)~fold(sum_bytes(t, th + payload_len, pseudo)));
	else
		put_be16(t + 16, fold(pseudo)); /* what a CHECKSUM_PARTIAL sender leaves */
	return len;
}

static int tcp_send_control(uint8_t flags, const uint8_t *options, size_t options_len)
{
	static uint8_t packet[128];
	size_t len = build_tcp(packet, flags, options, options_len, 0, 0, false, CSUM_FULL);

	return send_frame(PROTO_CHANNEL_IP, packet, len);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* Is this IP packet a TCP segment of our connection, board -> host? Sets
 * the TCP header's offset. */
static bool tcp_ours(const uint8_t *p, size_t len, size_t *tcp_offset)
{
	size_t iph = ip_hdr_len(tcp.family);

	if (!tcp.family || len < iph + 20)
		return false;
	if (tcp.family == 4 && (p[0] != 0x45 || p[9] != 6 || memcmp(p + 12, tcp.board_addr, 4) ||
				memcmp(p + 16, tcp.host_addr, 4)))
		return false;
	if (tcp.family == 6 && (p[0] >> 4 != 6 || p[6] != 6 || memcmp(p + 8, tcp.board_addr, 16) ||
				memcmp(p + 24, tcp.host_addr, 16)))
		return false;
	const uint8_t *t = p + iph;
	if ((t[2] << 8 | t[3]) != tcp.host_port)
		return false;
	if (!tcp.listening && (t[0] << 8 | t[1]) != tcp.board_port)
		return false;
	*tcp_offset = iph;
	return true;
}

static void tcp_classify(const uint8_t *p, size_t len, size_t iph)
{
	const uint8_t *t = p + iph;
	size_t tcp_len = len - iph;
	size_t announced = tcp.family == 4 ? (size_t)(p[2] << 8 | p[3]) :
			   (size_t)(p[4] << 8 | p[5]) + 40;
	uint32_t pseudo = pseudo_sum(tcp.family, tcp.board_addr, tcp.host_addr, tcp_len);

	tcp.frames++;
	if (len > tcp.max_ip_len)
		tcp.max_ip_len = len;
	if (len > config_mtu)
		tcp.over_mtu++;
	if (announced != len)
		tcp.bad_len++;
	if (fold(sum_bytes(t, tcp_len, pseudo)) == 0xffff)
		tcp.csum_full++;
	else if ((t[16] << 8 | t[17]) == fold(pseudo))
		tcp.csum_partial++;
	else
		tcp.csum_bad++;
}

static void tcp_input(const uint8_t *p, size_t len)
{
	static const uint8_t syn_options[] = { 2, 4, 0, 0, 1, 3, 3, TCP_WSCALE };
	size_t iph;

	if (!tcp_ours(p, len, &iph))
		return;
	tcp_classify(p, len, iph);
	const uint8_t *t = p + iph;
	size_t th = (size_t)(t[12] >> 4) * 4;
	if (th < 20 || iph + th > len)
		return;
	uint8_t flags = t[13];
	uint32_t seg_seq = get_be32(t + 4), seg_ack = get_be32(t + 8);
	size_t payload_len = len - iph - th;

	if (flags & TCP_RST) {
		tcp.reset = true;
		return;
	}
	if (tcp.listening && (flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		uint8_t options[sizeof(syn_options)];
		memcpy(options, syn_options, sizeof(options));
		put_be16(options + 2, (uint16_t)(config_mtu - iph - 20));
		tcp.board_port = (uint16_t)(t[0] << 8 | t[1]);
		tcp.rcv_nxt = seg_seq + 1;
		tcp.snd_nxt = TCP_HOST_ISS;
		tcp_send_control(TCP_SYN | TCP_ACK, options, sizeof(options));
		tcp.snd_nxt = TCP_HOST_ISS + 1;
		tcp.listening = false;
		tcp.established = true;
		return;
	}
	if (!tcp.established) {
		/* Our SYN's answer. */
		if ((flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) &&
		    seg_ack == TCP_HOST_ISS + 1) {
			tcp.rcv_nxt = seg_seq + 1;
			tcp.snd_nxt = TCP_HOST_ISS + 1;
			tcp.board_acked = seg_ack;
			tcp.established = true;
			tcp_send_control(TCP_ACK, NULL, 0);
		}
		return;
	}
	if ((flags & TCP_ACK) && seq_after(seg_ack, tcp.board_acked))
		tcp.board_acked = seg_ack;
	bool answer = false;
	if (payload_len) {
		answer = true;
		if (seg_seq == tcp.rcv_nxt) {
			for (size_t i = 0; i < payload_len && !tcp.pattern_broken; i++) {
				if (t[th + i] != pattern_byte(tcp.received + i)) {
					tcp.pattern_broken = true;
					tcp.pattern_error_at = tcp.received + i;
				}
			}
			tcp.received += payload_len;
			tcp.rcv_nxt += (uint32_t)payload_len;
		}
	}
	if ((flags & TCP_FIN) && seg_seq + (uint32_t)payload_len == tcp.rcv_nxt) {
		tcp.rcv_nxt++;
		tcp.fin_received = true;
		answer = true;
	}
	if (!answer)
		return;
	if (tcp.fin_received && !tcp.fin_sent) {
		tcp_send_control(TCP_FIN | TCP_ACK, NULL, 0);
		tcp.snd_nxt++;
		tcp.fin_sent = true;
	} else {
		tcp_send_control(TCP_ACK, NULL, 0);
	}
}

static bool tcp_start(const char *family_text, int port)
{
	memset(&tcp, 0, sizeof(tcp));
	tcp.family = atoi(family_text);
	if ((tcp.family != 4 && tcp.family != 6) || port <= 0 || port > 65535) {
		tcp.family = 0;
		return false;
	}
	int af = tcp.family == 4 ? AF_INET : AF_INET6;
	inet_pton(af, tcp.family == 4 ? "10.113.98.1" : "fd71:6200::1", tcp.host_addr);
	inet_pton(af, tcp.family == 4 ? "10.113.98.2" : "fd71:6200::2", tcp.board_addr);
	return true;
}

static void tcp_stats_reply(void)
{
	reply("ok bytes=%llu frames=%u max_ip=%zu over_mtu=%u csum_partial=%u csum_full=%u csum_bad=%u bad_len=%u",
	      (unsigned long long)tcp.received, tcp.frames, tcp.max_ip_len, tcp.over_mtu,
	      tcp.csum_partial, tcp.csum_full, tcp.csum_bad, tcp.bad_len);
}

/* The host end listens: the board connects and sends (tcprecv). */
static void do_tcplisten(const char *args)
{
	char family[8];
	int port;

	if (sscanf(args, "%7s %d", family, &port) != 2 || !tcp_start(family, port)) {
		reply("fail usage: tcplisten 4|6 PORT");
		return;
	}
	tcp.host_port = (uint16_t)port;
	tcp.listening = true;
	reply("ok listening on %s port %d", family, port);
}

static void do_tcprecv(const char *args)
{
	unsigned long long bytes;
	int seconds;
	bool done = false;

	if (sscanf(args, "%llu %d", &bytes, &seconds) != 2 || !tcp.family) {
		reply("fail usage: tcplisten first, then tcprecv BYTES SECS");
		return;
	}
	uint64_t deadline = clock_now_ms() + (uint64_t)seconds * 1000;
	while (!done && conn_fd >= 0 && clock_now_ms() < deadline) {
		pump(50, NULL);
		done = (tcp.received >= bytes && tcp.fin_received) || tcp.reset ||
		       tcp.pattern_broken;
	}
	if (tcp.pattern_broken)
		reply("fail byte %llu differs from the pattern", (unsigned long long)tcp.pattern_error_at);
	else if (tcp.reset)
		reply("fail the board reset the connection after %llu bytes",
		      (unsigned long long)tcp.received);
	else if (tcp.received != bytes || !tcp.fin_received)
		reply("fail received %llu of %llu bytes%s", (unsigned long long)tcp.received, bytes,
		      tcp.fin_received ? "" : ", no FIN");
	else
		tcp_stats_reply();
}

/* The host end connects to a listener on the board and sends bytes of the
 * pattern as one OFFLOAD frame: a TCP super-segment with gso_size (0: no
 * GSO) and a partial checksum. Before it, a plain frame with the same
 * sequence number, inverted data and the same partial checksum: the board's
 * kernel must drop that one (its checksum is wrong for a complete one). */
static void do_tcpsend(const char *args)
{
	static const uint8_t syn_options[] = { 2, 4, 0x05, 0xb4 }; /* MSS 1460 */
	static uint8_t frame[OFFLOAD_HDR_LEN + TCP_PACKET_MAX];
	char family[8];
	int port, gso_size, seconds;
	unsigned long long bytes;

	if (sscanf(args, "%7s %d %llu %d %d", family, &port, &bytes, &gso_size, &seconds) != 5 ||
	    !tcp_start(family, port) || gso_size < 0 || gso_size > 65535 ||
	    bytes > TCP_PACKET_MAX - 60 || bytes < NEGATIVE_CONTROL_BYTES || conn_fd < 0) {
		reply("fail usage: tcpsend 4|6 PORT BYTES(1000..65475) GSO_SIZE SECS (connected)");
		return;
	}
	tcp.board_port = (uint16_t)port;
	tcp.host_port = (uint16_t)(40000 + (clock_now_ms() % 20000));
	tcp.snd_nxt = TCP_HOST_ISS;
	tcp_send_control(TCP_SYN, syn_options, sizeof(syn_options));
	tcp.snd_nxt = TCP_HOST_ISS + 1;
	uint64_t deadline = clock_now_ms() + (uint64_t)seconds * 1000;
	while (!tcp.established && !tcp.reset && conn_fd >= 0 && clock_now_ms() < deadline)
		pump(20, NULL);
	if (!tcp.established) {
		reply("fail no SYN-ACK from the board%s", tcp.reset ? " (reset)" : "");
		return;
	}

	size_t iph = ip_hdr_len(tcp.family);
	size_t len = build_tcp(frame, TCP_ACK | TCP_PSH, NULL, 0, NEGATIVE_CONTROL_BYTES, 0, true,
			       CSUM_PARTIAL_ONLY);
	const uint8_t *segment = frame + iph;
	uint32_t pseudo = pseudo_sum(tcp.family, tcp.host_addr, tcp.board_addr, len - iph);
	if (fold(sum_bytes(segment, len - iph, pseudo)) == 0xffff) {
		reply("fail the negative control's checksum happens to be valid");
		return;
	}
	int rc = send_frame(PROTO_CHANNEL_IP, frame, len);

	const struct offload_hdr hdr = {
		.flags = OFFLOAD_F_CSUM_PARTIAL,
		.gso_type = !gso_size ? OFFLOAD_GSO_NONE :
			    tcp.family == 4 ? OFFLOAD_GSO_TCPV4 : OFFLOAD_GSO_TCPV6,
		.gso_size = (uint16_t)gso_size,
		.csum_start = (uint16_t)iph,
		.csum_offset = OFFLOAD_TCP_CSUM_OFFSET,
	};
	offload_hdr_encode(&hdr, frame);
	len = build_tcp(frame + OFFLOAD_HDR_LEN, TCP_ACK | TCP_PSH, NULL, 0, bytes, 0, false,
			CSUM_PARTIAL_ONLY);
	rc |= send_frame_flags(PROTO_CHANNEL_IP, PROTO_FRAME_F_OFFLOAD, frame,
			       OFFLOAD_HDR_LEN + len);
	tcp.snd_nxt += (uint32_t)bytes;
	if (rc) {
		reply("fail cannot send");
		return;
	}
	while (seq_after(TCP_HOST_ISS + 1 + (uint32_t)bytes, tcp.board_acked) && !tcp.reset &&
	       conn_fd >= 0 && clock_now_ms() < deadline)
		pump(20, NULL);
	/* The board may have acknowledged our FIN too, once its listener closed. */
	uint32_t acked = tcp.board_acked - (TCP_HOST_ISS + 1);
	if (seq_after(TCP_HOST_ISS + 1 + (uint32_t)bytes, tcp.board_acked))
		reply("fail the board acknowledged %u of %llu bytes%s", acked, bytes,
		      tcp.reset ? " (reset)" : "");
	else
		reply("ok acked=%llu ip_len=%zu", bytes, len);
}

/* OFFLOAD frames the board must drop and count (ip_rx_offload_malformed),
 * one per rule, in one bundle. */
static void do_badoffload(void)
{
	static uint8_t bundle[32768];
	static const struct {
		struct offload_hdr hdr;
		int version;
		size_t len;
	} bad[] = {
		{ { 0x02, 0, 0, 20, 16 }, 4, 60 },		/* unknown flag */
		{ { 0x01, 3, 1400, 20, 16 }, 4, 3000 },	/* gso_type 3 */
		{ { 0x01, 2, 1400, 20, 16 }, 4, 3000 },	/* TCPV6 on IPv4 */
		{ { 0x01, 1, 0, 20, 16 }, 4, 3000 },		/* GSO without gso_size */
		{ { 0x01, 0, 0, 20, 100 }, 4, 60 },		/* checksum past the end */
		{ { 0x01, 1, 65500, 20, 16 }, 4, 3000 },	/* segments above 65535 bytes */
		{ { 0x01, 0, 0, 20, 16 }, 4, 10 },		/* truncated */
	};
	struct proto_builder builder;
	uint8_t payload[OFFLOAD_HDR_LEN + 3000];

	proto_builder_init(&builder, bundle, sizeof(bundle));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(payload, 0, sizeof(payload));
		offload_hdr_encode(&bad[i].hdr, payload);
		uint8_t *ip = payload + OFFLOAD_HDR_LEN;
		ip[0] = 0x45;
		put_be16(ip + 2, (uint16_t)bad[i].len);
		ip[8] = 64;
		ip[9] = 6;
		inet_pton(AF_INET, "10.113.98.1", ip + 12);
		inet_pton(AF_INET, "10.113.98.2", ip + 16);
		ip[32] = 0x50;
		size_t frame_len = OFFLOAD_HDR_LEN + bad[i].len;
		size_t header_at = builder.len;
		if (!proto_builder_add(&builder, PROTO_CHANNEL_IP, payload, frame_len)) {
			reply("fail bundle too small");
			return;
		}
		put_le16(bundle + header_at + 2, PROTO_FRAME_F_OFFLOAD);
	}
	if (conn_fd < 0 || send_all(bundle, proto_builder_finish(&builder))) {
		reply("fail cannot send");
		return;
	}
	pump(200, NULL);
	reply(conn_fd >= 0 ? "ok sent %zu malformed OFFLOAD frames" : "fail connection lost",
	      sizeof(bad) / sizeof(bad[0]));
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
			else if (frame.channel == PROTO_CHANNEL_IP) {
				check_ip_frame(frame.payload, frame.len);
				tcp_input(frame.payload, frame.len);
			}
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

static void do_mtu(int mtu)
{
	if (mtu < (int)PROTO_MTU_MIN || mtu > 65535) {
		reply("fail usage: mtu 576..65535");
		return;
	}
	config_mtu = (uint16_t)mtu;
	reply("ok MTU %u in later CONFIGs", config_mtu);
}

static void do_maxbundle(const char *arg)
{
	unsigned long value = strtoul(arg, NULL, 10);

	if (value < PROTO_MAX_BUNDLE_MIN || value > RX_LIMIT) {
		reply("fail usage: maxbundle %u..%u", PROTO_MAX_BUNDLE_MIN, RX_LIMIT);
		return;
	}
	hello_max_bundle = (uint32_t)value;
	reply("ok MAX_BUNDLE %u in later HELLOs", hello_max_bundle);
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
		else if (!strcmp(command, "caps") && sscanf(line, "%*s %u", &host_caps) == 1)
			reply("ok caps %u in later HELLOs", host_caps);
		else if (!strcmp(command, "mtu"))
			do_mtu(seconds);
		else if (!strcmp(command, "maxbundle"))
			do_maxbundle(line + strlen("maxbundle"));
		else if (!strcmp(command, "tcplisten"))
			do_tcplisten(line + strlen("tcplisten"));
		else if (!strcmp(command, "tcprecv"))
			do_tcprecv(line + strlen("tcprecv"));
		else if (!strcmp(command, "tcpsend"))
			do_tcpsend(line + strlen("tcpsend"));
		else if (!strcmp(command, "badoffload"))
			do_badoffload();
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
