/* Test helper run inside tests/netns-test.sh's network namespace: a TCP sink
 * that checks the bytes it receives against tests/pattern.h, a source that
 * sends them in one large write, or a packet socket that reports the
 * virtio_net_hdr (GSO) of the first super-segment an interface receives.
 * Prints one "ok ..." or "fail ..." line.
 * Usage: tcp_peer sink PORT BYTES SECONDS | tcp_peer send ADDRESS PORT BYTES SECONDS |
 *        tcp_peer sniff INTERFACE SECONDS */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "pattern.h"

static int fail(const char *what)
{
	printf("fail %s: %s\n", what, strerror(errno));
	return 1;
}

/* Listens on [::]:port (IPv4 too), accepts one connection and reads until
 * bytes arrived, EOF or the deadline; every byte must match the pattern. */
static int sink(uint16_t port, uint64_t bytes, int seconds)
{
	struct sockaddr_in6 addr = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				     .sin6_addr = IN6ADDR_ANY_INIT };
	int off = 0, on = 1;
	uint64_t deadline = clock_now_ms() + (uint64_t)seconds * 1000;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 1))
		return fail("listen");
	printf("listening on port %u\n", port);
	fflush(stdout);

	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, seconds * 1000) <= 0) {
		printf("fail no connection within %d s\n", seconds);
		return 1;
	}
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0)
		return fail("accept");

	static uint8_t buf[65536];
	uint64_t received = 0;
	while (received < bytes) {
		uint64_t now = clock_now_ms();
		pfd = (struct pollfd){ .fd = conn, .events = POLLIN };
		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
			break;
		ssize_t n = recv(conn, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != pattern_byte(received + (uint64_t)i)) {
				printf("fail byte %llu is 0x%02x, not 0x%02x\n",
				       (unsigned long long)(received + (uint64_t)i), buf[i],
				       pattern_byte(received + (uint64_t)i));
				return 1;
			}
		}
		received += (uint64_t)n;
	}
	close(conn);
	close(fd);
	if (received != bytes) {
		printf("fail received %llu of %llu bytes\n", (unsigned long long)received,
		       (unsigned long long)bytes);
		return 1;
	}
	printf("ok received %llu bytes, pattern intact\n", (unsigned long long)received);
	return 0;
}

/* Connects and sends bytes of the pattern in one write() call. */
static int source(const char *address, uint16_t port, uint64_t bytes, int seconds)
{
	struct sockaddr_storage addr = { 0 };
	struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
	socklen_t addr_len;
	struct timeval timeout = { .tv_sec = seconds };

	if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		addr_len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		addr_len = sizeof(*v6);
	} else {
		printf("fail bad address %s\n", address);
		return 1;
	}
	uint8_t *data = malloc(bytes ? bytes : 1);
	if (!data)
		return fail("malloc");
	for (uint64_t i = 0; i < bytes; i++)
		data[i] = pattern_byte(i);

	int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) ||
	    connect(fd, (struct sockaddr *)&addr, addr_len))
		return fail("connect");
	uint64_t sent = 0;
	while (sent < bytes) {
		ssize_t n = write(fd, data + sent, bytes - sent);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail("write");
		sent += (uint64_t)n;
	}
	close(fd);
	free(data);
	printf("ok sent %llu bytes\n", (unsigned long long)sent);
	return 0;
}

/* The kernel's view of a received super-segment: an AF_PACKET socket with
 * PACKET_VNET_HDR (SOCK_RAW only; qb0 has no link header) gets the GSO and
 * checksum metadata of each packet. */
static int sniff(const char *interface, int seconds)
{
	static uint8_t buf[sizeof(struct virtio_net_hdr) + 65536];
	int on = 1;
	uint64_t deadline = clock_now_ms() + (uint64_t)seconds * 1000;
	struct sockaddr_ll addr = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				    .sll_ifindex = (int)if_nametoindex(interface) };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (!addr.sll_ifindex)
		return fail(interface);
	if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &on, sizeof(on)) ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return fail("packet socket");
	printf("listening on %s\n", interface);
	fflush(stdout);
	for (;;) {
		uint64_t now = clock_now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
			break;
		struct sockaddr_ll from;
		socklen_t from_len = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
				     &from_len);
		if (n < (ssize_t)sizeof(struct virtio_net_hdr) || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		struct virtio_net_hdr vnet;
		memcpy(&vnet, buf, sizeof(vnet));
		if (vnet.gso_type == VIRTIO_NET_HDR_GSO_NONE)
			continue;
		printf("ok len=%zd flags=%u gso_type=%u gso_size=%u csum_start=%u csum_offset=%u\n",
		       n - (ssize_t)sizeof(vnet), vnet.flags, vnet.gso_type, vnet.gso_size,
		       vnet.csum_start, vnet.csum_offset);
		return 0;
	}
	printf("fail no super-segment received on %s within %d s\n", interface, seconds);
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && !strcmp(argv[1], "sink"))
		return sink((uint16_t)atoi(argv[2]), strtoull(argv[3], NULL, 10), atoi(argv[4]));
	if (argc == 6 && !strcmp(argv[1], "send"))
		return source(argv[2], (uint16_t)atoi(argv[3]), strtoull(argv[4], NULL, 10),
			      atoi(argv[5]));
	if (argc == 4 && !strcmp(argv[1], "sniff"))
		return sniff(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: tcp_peer sink PORT BYTES SECONDS | tcp_peer send ADDRESS PORT BYTES SECONDS | tcp_peer sniff INTERFACE SECONDS\n");
	return 2;
}
