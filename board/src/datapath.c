/* Moving packets: TUN -> bundles (read until EAGAIN or the bundle is full,
 * no timers) -> link, and link -> validated bundle -> frames -> session or
 * TUN. Backpressure: the TUN is not read while the link cannot take more. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "datapath.h"
#include "epoll_ref.h"
#include "log.h"
#include "stats.h"

#define TUN_BUNDLES_PER_EVENT 8
#define TUN_DROPS_PER_EVENT 64

static void set_tun_reading(struct datapath *dp, bool reading)
{
	struct epoll_event ev = { .data.u64 = epoll_ref(EPOLL_OWNER_TUN, dp->tun_fd) };

	if (dp->tun_reading == reading || (reading && dp->tun_failed))
		return;
	ev.events = reading ? EPOLLIN : 0;
	if (epoll_ctl(dp->epoll_fd, EPOLL_CTL_MOD, dp->tun_fd, &ev)) {
		err("cannot change TUN events: %s", strerror(errno));
		return;
	}
	dp->tun_reading = reading;
	debug("TUN reading %s", reading ? "resumed" : "paused (link queue full)");
}

/* A read error other than "empty": the interface was deleted or broken.
 * Stop reading (a level-triggered error would spin) and let main exit. */
static void tun_read_failed(struct datapath *dp, int error)
{
	stats.tun_read_errors++;
	if (error == EAGAIN || error == EWOULDBLOCK || error == EINTR)
		return;
	err("cannot read from the TUN: %s: was the interface deleted? stopping",
	    strerror(error));
	set_tun_reading(dp, false);
	dp->tun_failed = true;
}

static bool send_bundle(struct datapath *dp, const uint8_t *bundle, size_t len)
{
	switch (dp->link->ops->send(dp->link, bundle, len)) {
	case LINK_SEND_QUEUED:
		stats.link_tx_bundles++;
		stats.link_tx_bytes += len;
		session_bundle_sent(&dp->session, clock_now_ms());
		return true;
	case LINK_SEND_BUSY:
		stats.link_tx_busy++;
		return false;
	case LINK_SEND_DOWN:
		stats.link_tx_down++;
		return false;
	}
	return false;
}

/* Not configured or no link: read and drop, so nothing stale is sent later. */
static void drain_and_drop(struct datapath *dp)
{
	for (int i = 0; i < TUN_DROPS_PER_EVENT; i++) {
		ssize_t n = read(dp->tun_fd, dp->tx_buf, PROTO_MTU_MAX);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			tun_read_failed(dp, errno);
		if (n <= 0)
			return;
		stats.tun_rx_dropped++;
	}
}

/* Fills one bundle from the TUN and sends it; true when the TUN is empty. */
static bool fill_and_send(struct datapath *dp)
{
	struct proto_builder builder;
	size_t need = session_tun_mtu(&dp->session);
	bool drained = false;

	proto_builder_init(&builder, dp->tx_buf, session_tx_limit(&dp->session));
	while (proto_builder_room(&builder) >= need) {
		size_t room = proto_builder_room(&builder);
		ssize_t n = read(dp->tun_fd, proto_builder_payload(&builder),
				 room > PROTO_MTU_MAX ? PROTO_MTU_MAX : room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
				tun_read_failed(dp, errno);
			drained = true;
			break;
		}
		proto_builder_commit(&builder, PROTO_CHANNEL_IP, (size_t)n);
		stats.tun_rx_packets++;
	}
	if (builder.frames)
		send_bundle(dp, dp->tx_buf, proto_builder_finish(&builder));
	return drained;
}

void datapath_tun_event(struct datapath *dp, uint32_t events)
{
	(void)events;
	if (!dp->link_up || !session_configured(&dp->session)) {
		drain_and_drop(dp);
		return;
	}
	for (int i = 0; i < TUN_BUNDLES_PER_EVENT; i++) {
		if (!dp->link->ops->can_send(dp->link)) {
			set_tun_reading(dp, false);
			return;
		}
		if (fill_and_send(dp))
			return;
	}
}

static void deliver_ip(struct datapath *dp, const struct proto_frame *frame)
{
	if (!session_configured(&dp->session)) {
		stats.ip_rx_unconfigured++;
		return;
	}
	if (!proto_ip_frame_valid(frame->payload, frame->len, session_config_mtu(&dp->session))) {
		stats.ip_rx_malformed++;
		return;
	}
	ssize_t n = write(dp->tun_fd, frame->payload, frame->len);
	if (n == (ssize_t)frame->len) {
		stats.ip_rx++;
	} else {
		stats.tun_write_errors++;
		debug("TUN write of %u bytes: %s", frame->len, n < 0 ? strerror(errno) : "short");
	}
}

static void count_drop(enum proto_bundle_status status)
{
	switch (status) {
	case PROTO_BUNDLE_BAD_MAGIC:
		stats.rx_bad_magic++;
		break;
	case PROTO_BUNDLE_BAD_FORMAT:
		stats.rx_bad_format++;
		break;
	case PROTO_BUNDLE_BAD_LENGTH:
		stats.rx_bad_length++;
		break;
	case PROTO_BUNDLE_TRUNCATED_FRAME:
		stats.rx_truncated_frame++;
		break;
	case PROTO_BUNDLE_OK:
		break;
	}
}

static void on_bundle(void *ctx, const uint8_t *data, size_t len)
{
	struct datapath *dp = ctx;
	uint64_t now = clock_now_ms();
	struct proto_frame_iter iter;
	struct proto_frame frame;

	session_bundle_received(&dp->session, now);
	stats.link_rx_bundles++;
	stats.link_rx_bytes += len;
	enum proto_bundle_status status = proto_bundle_check(data, len, dp->rx_limit);
	if (status != PROTO_BUNDLE_OK) {
		count_drop(status);
		warn("dropped a bundle of %zu bytes: %s", len, proto_bundle_status_name(status));
		return;
	}
	proto_frames_begin(&iter, data, len);
	while (proto_frames_next(&iter, &frame)) {
		if (frame.channel == PROTO_CHANNEL_CONTROL)
			session_control(&dp->session, frame.payload, frame.len, now);
		else if (frame.channel == PROTO_CHANNEL_IP)
			deliver_ip(dp, &frame);
		else if (frame.channel == PROTO_CHANNEL_LINK_TEST)
			stats.link_test_rx++;
		else
			stats.rx_unknown_channel++;
	}
}

static void on_bundle_dropped(void *ctx, enum proto_bundle_status reason)
{
	(void)ctx;
	count_drop(reason);
}

static void on_link_up(void *ctx)
{
	struct datapath *dp = ctx;

	dp->link_up = true;
	stats.link_connects++;
	info("link up (%s)", dp->link->ops->name);
	session_link_up(&dp->session, clock_now_ms());
	set_tun_reading(dp, true);
}

static void on_link_down(void *ctx, const char *reason)
{
	struct datapath *dp = ctx;

	dp->link_up = false;
	stats.link_disconnects++;
	info("link down: %s", reason);
	session_link_down(&dp->session);
	set_tun_reading(dp, true);
}

static void on_writable(void *ctx)
{
	set_tun_reading(ctx, true);
}

static size_t on_hello_payload(void *ctx, uint8_t *buf, size_t cap)
{
	struct datapath *dp = ctx;

	return session_hello_payload(&dp->session, buf, cap);
}

static void on_restart(void *ctx)
{
	struct datapath *dp = ctx;

	session_restart(&dp->session, clock_now_ms());
}

static uint32_t on_tx_limit(void *ctx)
{
	struct datapath *dp = ctx;

	return session_tx_limit(&dp->session);
}

const struct link_callbacks datapath_link_callbacks = {
	.up = on_link_up,
	.down = on_link_down,
	.bundle_received = on_bundle,
	.bundle_dropped = on_bundle_dropped,
	.writable = on_writable,
	.hello_payload = on_hello_payload,
	.restart = on_restart,
	.tx_limit = on_tx_limit,
};

static bool hook_send_control(void *ctx, const uint8_t *payload, size_t len)
{
	struct datapath *dp = ctx;
	uint8_t bundle[PROTO_BUNDLE_HDR_LEN + PROTO_FRAME_HDR_LEN + PROTO_CONTROL_MAX];
	struct proto_builder builder;

	proto_builder_init(&builder, bundle, sizeof(bundle));
	if (!proto_builder_add(&builder, PROTO_CHANNEL_CONTROL, payload, len))
		return false;
	return send_bundle(dp, bundle, proto_builder_finish(&builder));
}

static int hook_apply_config(void *ctx, const struct proto_config *config, uint16_t mtu,
			     char *err_text, size_t err_len)
{
	struct datapath *dp = ctx;

	return apply_config(dp->apply, config, mtu, err_text, err_len);
}

static void hook_peer_lost(void *ctx, const char *reason)
{
	struct datapath *dp = ctx;

	warn("%s: resetting the link", reason);
	dp->link->ops->reset(dp->link, reason);
}

static const struct session_hooks datapath_session_hooks = {
	.send_control = hook_send_control,
	.apply_config = hook_apply_config,
	.peer_lost = hook_peer_lost,
};

int datapath_init(struct datapath *dp, int epoll_fd, int tun_fd, struct apply *apply,
		  const struct session_params *params)
{
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = epoll_ref(EPOLL_OWNER_TUN, tun_fd) };

	memset(dp, 0, sizeof(*dp));
	dp->epoll_fd = epoll_fd;
	dp->tun_fd = tun_fd;
	dp->apply = apply;
	dp->rx_limit = params->max_bundle;
	dp->tx_buf = malloc(PROTO_BUNDLE_ABS_MAX);
	if (!dp->tx_buf) {
		err("out of memory");
		return -1;
	}
	session_init(&dp->session, params, &datapath_session_hooks, dp);
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, tun_fd, &ev)) {
		err("cannot watch the TUN: %s", strerror(errno));
		return -1;
	}
	dp->tun_reading = true;
	return 0;
}

void datapath_set_link(struct datapath *dp, struct link *link)
{
	dp->link = link;
}

int datapath_timeout_ms(struct datapath *dp)
{
	return session_timeout_ms(&dp->session, clock_now_ms());
}

void datapath_tick(struct datapath *dp)
{
	session_tick(&dp->session, clock_now_ms());
}

void datapath_free(struct datapath *dp)
{
	free(dp->tx_buf);
	dp->tx_buf = NULL;
}
