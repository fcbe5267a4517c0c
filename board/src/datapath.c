/* Moving packets: TUN -> bundles (read until EAGAIN or the bundle is full,
 * no timers) -> link, and link -> validated bundle -> frames -> session or
 * TUN. Backpressure: the TUN is not read while the link cannot take more.
 * Offload (section 7): virtio_net_hdr stripped on read, built on write. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if_tun.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "datapath.h"
#include "epoll_ref.h"
#include "log.h"
#include "notify.h"
#include "offload.h"
#include "sockkill.h"
#include "stats.h"

#define TUN_BUNDLES_PER_EVENT 8
#define TUN_DROPS_PER_EVENT 64
#define TUN_OFFLOADS_CSUM TUN_F_CSUM
#define TUN_OFFLOADS_TSO (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)

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
		ssize_t n = read(dp->tun_fd, dp->tx_buf, dp->vnet_hdr_len + OFFLOAD_IP_MAX);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			tun_read_failed(dp, errno);
		if (n <= 0)
			return;
		stats.tun_rx_dropped++;
	}
}

/* Reads one packet into buf (cap bytes) and its virtio_net_hdr, if the TUN
 * has one, into *vnet. Returns the packet's length, 0 for nothing, or -1
 * (errno). A packet longer than cap is cut to cap (see truncated()). */
static ssize_t tun_read(struct datapath *dp, uint8_t *buf, size_t cap,
			struct virtio_net_hdr *vnet)
{
	if (!dp->vnet_hdr_len) {
		memset(vnet, 0, sizeof(*vnet));
		return read(dp->tun_fd, buf, cap);
	}
	struct iovec iov[2] = { { .iov_base = vnet, .iov_len = sizeof(*vnet) },
				{ .iov_base = buf, .iov_len = cap } };
	ssize_t n = readv(dp->tun_fd, iov, 2);
	if (n < 0)
		return n;
	return (size_t)n < sizeof(*vnet) ? 0 : n - (ssize_t)sizeof(*vnet);
}

/* A TUN read into too small a buffer silently returns what fitted (older
 * kernels return the whole length): the IP header's length tells. */
static bool truncated(const uint8_t *packet, size_t len, size_t cap)
{
	return len > cap || proto_ip_stated_length(packet, len) > len;
}

/* The largest packet a TUN read may return: 64 KiB super-segments with TSO
 * on, the MTU otherwise. */
static size_t tun_packet_max(const struct datapath *dp)
{
	if (dp->tun_offloads & (TUN_F_TSO4 | TUN_F_TSO6))
		return OFFLOAD_IP_MAX;
	return session_tun_mtu(&dp->session);
}

/* Fills one bundle from the TUN and sends it; true when the TUN is empty.
 * Every pass reads a packet (or finds the TUN empty) or sends a bundle: an
 * empty bundle always reads (tx_buf holds PROTO_BUNDLE_ABS_MAX, more than
 * any packet), and a packet that does not fit the host's limit is dropped
 * and counted, so a level-triggered TUN can never spin here. */
static bool fill_and_send(struct datapath *dp)
{
	struct proto_builder builder;
	size_t need = tun_packet_max(dp);
	bool drained = false;

	proto_builder_init(&builder, dp->tx_buf, session_tx_limit(&dp->session));
	while (!builder.frames || proto_builder_room(&builder) >= need) {
		size_t room = proto_builder_room(&builder);
		size_t cap = need;
		struct virtio_net_hdr vnet;
		ssize_t n = tun_read(dp, proto_builder_payload(&builder), cap, &vnet);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
				tun_read_failed(dp, errno);
			drained = true;
			break;
		}
		uint8_t *packet = proto_builder_payload(&builder);
		if (truncated(packet, (size_t)n, cap)) {
			/* Queued before TSO was turned off or the MTU lowered. */
			stats.tun_rx_truncated++;
			debug("dropped a packet of %zu bytes from the TUN: larger than the %zu bytes read",
			      proto_ip_stated_length(packet, (size_t)n), cap);
			continue;
		}
		if ((size_t)n > room) {
			/* Only an empty bundle gets here: the host's limit is
			 * below this packet (update_features() keeps TSO and
			 * the MTU within it; this is the safety net). */
			stats.tun_rx_oversize++;
			warn_limited("dropped a %zd-byte packet from the TUN: the host's bundle limit %u cannot carry it",
				     n, session_tx_limit(&dp->session));
			continue;
		}
		/* The host needs no metadata: the header is dropped (section 7). */
		if (vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			stats.tun_rx_gso++;
		proto_builder_commit(&builder, PROTO_CHANNEL_IP, (size_t)n);
		stats.tun_rx_packets++;
	}
	if (builder.frames)
		send_bundle(dp, dp->tx_buf, proto_builder_finish(&builder));
	return drained;
}

/* EPOLLERR or EPOLLHUP on the TUN: the interface was deleted or broke.
 * epoll reports them even while reading is paused (no events armed), so
 * they must end here, not spin: a read names the cause, and main stops. */
static void tun_broken(struct datapath *dp)
{
	ssize_t n = read(dp->tun_fd, dp->tx_buf, dp->vnet_hdr_len + OFFLOAD_IP_MAX);
	int error = n < 0 && errno != EAGAIN && errno != EINTR ? errno : EIO;

	tun_read_failed(dp, error);
}

void datapath_tun_event(struct datapath *dp, uint32_t events)
{
	if (events & (EPOLLERR | EPOLLHUP)) {
		tun_broken(dp);
		return;
	}
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

/* Writes one packet after its virtio_net_hdr (when the TUN has one), with
 * no copy; true when the TUN took it whole. */
static bool tun_write(struct datapath *dp, const struct virtio_net_hdr *vnet,
		      const uint8_t *packet, size_t len)
{
	struct iovec iov[2] = { { .iov_base = (void *)(uintptr_t)vnet, .iov_len = sizeof(*vnet) },
				{ .iov_base = (void *)(uintptr_t)packet, .iov_len = len } };
	size_t total = len;
	ssize_t n;

	if (dp->vnet_hdr_len) {
		total += sizeof(*vnet);
		n = writev(dp->tun_fd, iov, 2);
	} else {
		n = write(dp->tun_fd, packet, len);
	}
	if (n == (ssize_t)total)
		return true;
	stats.tun_write_errors++;
	debug("TUN write of %zu bytes: %s", len, n < 0 ? strerror(errno) : "short");
	return false;
}

static void offload_dropped(const char *reason)
{
	stats.ip_rx_offload_malformed++;
	warn_limited("dropped an IP frame with OFFLOAD: %s (%llu so far)", reason,
		     (unsigned long long)stats.ip_rx_offload_malformed);
}

static void deliver_ip(struct datapath *dp, const struct proto_frame *frame)
{
	struct virtio_net_hdr vnet = { 0 };
	const uint8_t *packet = frame->payload;
	size_t len = frame->len;

	if (!session_configured(&dp->session)) {
		stats.ip_rx_unconfigured++;
		return;
	}
	uint32_t mtu = session_config_mtu(&dp->session);
	if (frame->flags & PROTO_FRAME_F_OFFLOAD) {
		if (!dp->offload) {
			offload_dropped("offload is not in use (CAPS bit 1 not in both HELLOs)");
			return;
		}
		enum offload_status status = offload_parse(frame->payload, frame->len, mtu, &vnet,
							   &packet, &len);
		if (status != OFFLOAD_OK) {
			offload_dropped(offload_status_name(status));
			return;
		}
	} else if (!proto_ip_frame_valid(packet, len, mtu)) {
		stats.ip_rx_malformed++;
		return;
	}
	if (!tun_write(dp, &vnet, packet, len))
		return;
	stats.ip_rx++;
	if (frame->flags & PROTO_FRAME_F_OFFLOAD) {
		stats.ip_rx_offload++;
		if (vnet.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			stats.ip_rx_gso++;
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
		warn_limited("dropped a bundle of %zu bytes: %s", len, proto_bundle_status_name(status));
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
	info_limited("link up (%s)", dp->link->ops->name);
	notify("STATUS=link up (%s): waiting for the host's CONFIG", dp->link->ops->name);
	session_link_up(&dp->session, clock_now_ms());
	set_tun_reading(dp, true);
}

static void on_link_down(void *ctx, const char *reason)
{
	struct datapath *dp = ctx;

	dp->link_up = false;
	stats.link_disconnects++;
	info_limited("link down: %s", reason);
	notify("STATUS=link down: %s; waiting for the host", reason);
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

	warn_limited("%s: resetting the link", reason);
	dp->link->ops->reset(dp->link, reason);
}

/* The TUN offloads a session's view of the host allows: none without
 * offload; TSO only when a 64 KiB super-segment fits the host's bundles,
 * checksum offload alone otherwise. */
static unsigned wanted_offloads(bool offload, uint32_t tx_limit)
{
	if (!offload)
		return 0;
	if (tx_limit >= PROTO_BUNDLE_HDR_LEN + PROTO_FRAME_HDR_LEN + OFFLOAD_IP_MAX)
		return TUN_OFFLOADS_TSO;
	return TUN_OFFLOADS_CSUM;
}

/* netdev_update_features() for the data path: everything derived from the
 * session's view of the host (OFFLOAD frames accepted, the TUN's offloads,
 * and with them the room a bundle keeps per packet, tun_packet_max()) is
 * recomputed from its inputs on every HELLO and link change, so a second
 * HELLO with a smaller bundle limit turns TSO off although offload stays. */
static void update_features(struct datapath *dp)
{
	bool was_offload = dp->offload;
	unsigned was_offloads = dp->tun_offloads;
	bool offload = session_offload(&dp->session);
	unsigned want = wanted_offloads(offload, session_tx_limit(&dp->session));

	if (want != dp->tun_offloads) {
		if (!tun_set_offload(dp->tun_fd, want)) {
			dp->tun_offloads = want;
		} else {
			err_limited("cannot %s TUN offloads: %s", want ? "change" : "turn off",
				    strerror(errno));
			/* Off is always safe for the host: plain packets.
			 * OFFLOAD frames from it stay accepted (the vnet
			 * header on write does not need TUNSETOFFLOAD). */
			if (want && !tun_set_offload(dp->tun_fd, 0))
				dp->tun_offloads = 0;
		}
	}
	dp->offload = offload;
	if (offload == was_offload && dp->tun_offloads == was_offloads)
		return;
	if (!offload)
		info_limited("offload off: plain packets of at most the MTU each way");
	else if (dp->tun_offloads == TUN_OFFLOADS_TSO)
		info_limited("offload on: TSO and partial checksums to the host, OFFLOAD frames from it");
	else if (dp->tun_offloads == TUN_OFFLOADS_CSUM)
		info_limited("offload on: partial checksums to the host, OFFLOAD frames from it; no TSO: the host's bundle limit %u cannot carry 64 KiB packets",
			     session_tx_limit(&dp->session));
	else
		info_limited("offload on: OFFLOAD frames from the host; plain packets to it (the TUN's offloads are off)");
}

static void hook_peer_changed(void *ctx)
{
	update_features(ctx);
}

static bool inject_packet(void *ctx, const uint8_t *packet, size_t len)
{
	const struct virtio_net_hdr vnet = { 0 };

	return tun_write(ctx, &vnet, packet, len);
}

static void add_addresses(struct sockkill_addrs *addrs, const struct proto_config *config)
{
	sockkill_addrs_add(addrs, AF_INET, config->ipv4);
	if (config->has_ipv6)
		sockkill_addrs_add(addrs, AF_INET6, config->ipv6);
}

/* A new host driver configured us: end the old one's connections (src/sockkill.h). */
static void hook_host_changed(void *ctx, const struct proto_config *previous,
			      const struct proto_config *current)
{
	struct sockkill_addrs addrs = { 0 };

	if (previous)
		add_addresses(&addrs, previous);
	add_addresses(&addrs, current);
	sockkill_end_old_connections(&addrs, inject_packet, ctx);
}

static const struct session_hooks datapath_session_hooks = {
	.send_control = hook_send_control,
	.apply_config = hook_apply_config,
	.peer_lost = hook_peer_lost,
	.peer_changed = hook_peer_changed,
	.host_changed = hook_host_changed,
};

int datapath_init(struct datapath *dp, int epoll_fd, int tun_fd, const struct tun_info *tun,
		  struct apply *apply, const struct session_params *params)
{
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = epoll_ref(EPOLL_OWNER_TUN, tun_fd) };

	memset(dp, 0, sizeof(*dp));
	dp->epoll_fd = epoll_fd;
	dp->tun_fd = tun_fd;
	dp->apply = apply;
	dp->rx_limit = params->max_bundle;
	dp->vnet_hdr_len = tun->vnet_hdr_len;
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
