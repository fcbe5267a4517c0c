/* Unit tests of the data path's TUN event handling (src/datapath.c) with a
 * fake link and a pipe standing in for the TUN: an EPOLLERR or EPOLLHUP on
 * the TUN stops the daemon whatever the link's state. epoll reports them
 * even while reading is paused, so ignoring them (as when the link is busy)
 * made the level-triggered loop spin. */
#define _GNU_SOURCE
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "check.h"
#include "datapath.h"
#include "log.h"

CHECKS_DEFINE;

static bool link_can_send;

static enum link_send_result fake_send(struct link *link, const uint8_t *bundle, size_t len)
{
	(void)link;
	(void)bundle;
	(void)len;
	return link_can_send ? LINK_SEND_QUEUED : LINK_SEND_BUSY;
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

int main(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	test_tun_error(LINK_BUSY, EPOLLERR, "EPOLLERR, link busy (reading paused)");
	test_tun_error(LINK_BUSY, EPOLLERR | EPOLLIN, "EPOLLERR|EPOLLIN, link busy");
	test_tun_error(LINK_DOWN, EPOLLERR, "EPOLLERR, link down");
	test_tun_error(LINK_READY, EPOLLHUP, "EPOLLHUP, link ready");
	return checks_report("test_datapath");
}
