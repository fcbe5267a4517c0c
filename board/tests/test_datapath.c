/* Unit tests of the data path's TUN event handling (src/datapath.c) with a
 * fake link and a pipe or datagram socket standing in for the TUN: an
 * EPOLLERR or EPOLLHUP on the TUN stops the daemon whatever the link's
 * state (epoll reports them even while reading is paused, so ignoring them
 * made the level-triggered loop spin); a lone packet goes out at once
 * without a read that finds the TUN empty; a burst shares bundles. */
#define _GNU_SOURCE
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "datapath.h"
#include "log.h"
#include "stats.h"

CHECKS_DEFINE;

static bool link_can_send;
static unsigned bundles_sent;
static unsigned frames_sent;

static enum link_send_result fake_send(struct link *link, const uint8_t *bundle, size_t len)
{
	struct proto_frame_iter iter;
	struct proto_frame frame;

	(void)link;
	if (!link_can_send)
		return LINK_SEND_BUSY;
	bundles_sent++;
	proto_frames_begin(&iter, bundle, len);
	while (proto_frames_next(&iter, &frame))
		frames_sent++;
	return LINK_SEND_QUEUED;
}

static bool fake_can_send(const struct link *link)
{
	(void)link;
	return link_can_send;
}

static void fake_reset(struct link *link, const char *reason)
{
	(void)link;
	(void)reason;
}

static const struct link_ops fake_ops = {
	.name = "fake",
	.send = fake_send,
	.can_send = fake_can_send,
	.reset = fake_reset,
};

static const struct session_params params = {
	.max_bundle = 262144,
	.mtu_max = 65535,
	.serial = "TEST-0001",
	.software = "qbnetd test",
};

enum link_state { LINK_DOWN, LINK_BUSY, LINK_READY };

/* One EPOLLERR (or EPOLLHUP) on a broken "TUN" (a pipe whose writer is
 * gone) in each link state: the data path must give up on the TUN. */
static void test_tun_error(enum link_state state, uint32_t events, const char *what)
{
	struct datapath dp;
	struct apply apply;
	struct tun_info tun = { .vnet_hdr_len = 0, .offload = false };
	struct link link = { .ops = &fake_ops, .callbacks = &datapath_link_callbacks };
	int fds[2];

	memset(&apply, 0, sizeof(apply));
	int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	CHECK(epoll_fd >= 0 && !pipe2(fds, O_CLOEXEC | O_NONBLOCK), "epoll and pipe");
	close(fds[1]);
	CHECK(!datapath_init(&dp, epoll_fd, fds[0], &tun, &apply, &params), "datapath_init");
	link.ctx = &dp;
	datapath_set_link(&dp, &link);
	link_can_send = state == LINK_READY;
	if (state != LINK_DOWN) {
		datapath_link_callbacks.up(&dp);
		dp.session.state = SESSION_CONFIGURED; /* as after a CONFIG */
	}
	datapath_tun_event(&dp, events);
	CHECK(dp.tun_failed, "%s: the TUN is given up (the loop stops) after one event", what);
	CHECK(!dp.tun_reading, "%s: and no longer read", what);
	datapath_free(&dp);
	close(fds[0]);
	close(epoll_fd);
}

/* A minimal IPv4 header whose total length is the packet's. */
static void send_packet(int fd)
{
	uint8_t packet[20] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17 };

	CHECK(send(fd, packet, sizeof(packet), 0) == sizeof(packet), "a packet into the fake TUN");
}

/* A datagram socket keeps packet boundaries, as a TUN does. */
static void test_lone_and_burst(void)
{
	struct datapath dp;
	struct apply apply;
	struct tun_info tun = { .vnet_hdr_len = 0, .offload = false };
	struct link link = { .ops = &fake_ops, .callbacks = &datapath_link_callbacks };
	int fds[2];

	memset(&apply, 0, sizeof(apply));
	int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	CHECK(epoll_fd >= 0 && !socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds),
	      "epoll and socketpair");
	CHECK(!datapath_init(&dp, epoll_fd, fds[0], &tun, &apply, &params), "datapath_init");
	link.ctx = &dp;
	datapath_set_link(&dp, &link);
	link_can_send = true;
	datapath_link_callbacks.up(&dp);
	dp.session.state = SESSION_CONFIGURED;
	dp.session.mtu = 1500;
	bundles_sent = frames_sent = 0;

	/* Request/response: one packet per event, idle rounds between. */
	for (int i = 0; i < 3; i++) {
		uint64_t lone = stats.tun_rx_lone;
		send_packet(fds[1]);
		datapath_tun_event(&dp, EPOLLIN);
		datapath_tick(&dp);
		CHECK(bundles_sent == (unsigned)i + 1 && frames_sent == (unsigned)i + 1,
		      "lone packet %d is sent in the event that read it", i);
		CHECK(stats.tun_rx_lone == lone + 1, "alone, with no read that would find the TUN empty");
		datapath_tick(&dp); /* a round with other work: the link's answer */
	}

	/* A burst: the lone guess sends the first at once; the next round takes the rest together. */
	for (int i = 0; i < 5; i++)
		send_packet(fds[1]);
	datapath_tun_event(&dp, EPOLLIN);
	datapath_tick(&dp);
	CHECK(bundles_sent == 4 && frames_sent == 4, "the first packet of a burst goes at once");
	datapath_tun_event(&dp, EPOLLIN);
	datapath_tick(&dp);
	CHECK(bundles_sent == 5 && frames_sent == 8, "the rest of the burst shares one bundle (%u frames)",
	      frames_sent);
	uint8_t probe[32];
	CHECK(recv(fds[0], probe, sizeof(probe), 0) < 0, "and the TUN was read empty");

	datapath_free(&dp);
	close(fds[0]);
	close(fds[1]);
	close(epoll_fd);
}

int main(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	test_tun_error(LINK_BUSY, EPOLLERR, "EPOLLERR, link busy (reading paused)");
	test_tun_error(LINK_BUSY, EPOLLERR | EPOLLIN, "EPOLLERR|EPOLLIN, link busy");
	test_tun_error(LINK_DOWN, EPOLLERR, "EPOLLERR, link down");
	test_tun_error(LINK_READY, EPOLLHUP, "EPOLLHUP, link ready");
	test_lone_and_burst();
	return checks_report("test_datapath");
}
