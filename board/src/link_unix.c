/* Socket transport (--link unix:PATH): connects to the host driver's Unix
 * stream socket without blocking, reconnects with exponential backoff on a
 * timerfd, reassembles bundles, and queues writes in a bounded buffer. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "epoll_ref.h"
#include "link.h"
#include "log.h"
#include "stream.h"

#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 1000u
/* Below this many queued bytes the link takes more bundles (can_send). */
#define TXQ_LOW_WATER 65536u
/* One maximal bundle on top of the low-water mark, plus room for control. */
#define TXQ_CAP (PROTO_BUNDLE_ABS_MAX + 2 * TXQ_LOW_WATER)
#define READS_PER_EVENT 8

struct link_unix {
	struct link link;
	struct sockaddr_un addr;
	int epoll_fd;
	int sock;		/* -1 when not connected */
	int timer;
	bool connecting;
	bool connected;
	bool failed;		/* close requested; done from the timer */
	char fail_reason[160];
	unsigned backoff_ms;
	int last_errno;		/* of the last failed connect, to log once */
	struct stream_rx rx;
	uint8_t *rx_buf;
	uint8_t *txq;
	size_t txq_head;
	size_t txq_tail;
	bool want_out;
};

static struct link_unix *to_unix(struct link *link)
{
	return (struct link_unix *)link;
}

static void arm_timer(struct link_unix *l, unsigned ms)
{
	struct itimerspec spec = { 0 };

	spec.it_value.tv_sec = ms / 1000;
	spec.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	if (!ms)
		spec.it_value.tv_nsec = 1; /* now, but from the event loop */
	if (timerfd_settime(l->timer, 0, &spec, NULL))
		err("cannot arm the link timer: %s", strerror(errno));
}

static void schedule_reconnect(struct link_unix *l)
{
	arm_timer(l, l->backoff_ms);
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff_ms * 2;
}

static void update_events(struct link_unix *l)
{
	struct epoll_event ev = { .data.u64 = epoll_ref(EPOLL_OWNER_LINK, l->sock) };

	ev.events = EPOLLIN | EPOLLRDHUP;
	if (l->want_out || l->connecting)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(l->epoll_fd, EPOLL_CTL_MOD, l->sock, &ev))
		err("cannot update link events: %s", strerror(errno));
}

static void close_socket(struct link_unix *l)
{
	if (l->sock >= 0) {
		epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, l->sock, NULL);
		close(l->sock);
	}
	l->sock = -1;
	l->connecting = false;
	l->connected = false;
	l->failed = false;
	l->want_out = false;
	l->txq_head = 0;
	l->txq_tail = 0;
	stream_rx_reset(&l->rx);
}

/* Closes the connection, tells the session, and schedules a reconnect. */
static void disconnect(struct link_unix *l, const char *reason)
{
	bool was_connected = l->connected;

	close_socket(l);
	if (was_connected)
		l->link.callbacks->down(l->link.ctx, reason);
	schedule_reconnect(l);
}

/* Requests a disconnect from outside the transport's own handler. */
static void fail(struct link_unix *l, const char *reason)
{
	if (l->failed || l->sock < 0)
		return;
	l->failed = true;
	snprintf(l->fail_reason, sizeof(l->fail_reason), "%s", reason);
	arm_timer(l, 0);
}

static void connected(struct link_unix *l)
{
	l->connecting = false;
	l->connected = true;
	l->backoff_ms = BACKOFF_MIN_MS;
	l->last_errno = 0;
	update_events(l);
	info_limited("connected to the host driver at unix:%s", l->addr.sun_path);
	l->link.callbacks->up(l->link.ctx);
}

static void connect_failed(struct link_unix *l, int error)
{
	if (error != l->last_errno)
		info_limited("host driver not reachable at unix:%s (%s); retrying", l->addr.sun_path,
			     strerror(error));
	else
		debug("connect to unix:%s: %s", l->addr.sun_path, strerror(error));
	l->last_errno = error;
	close_socket(l);
	schedule_reconnect(l);
}

static void try_connect(struct link_unix *l)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP };

	l->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->sock < 0) {
		err("cannot create a Unix socket: %s", strerror(errno));
		schedule_reconnect(l);
		return;
	}
	ev.data.u64 = epoll_ref(EPOLL_OWNER_LINK, l->sock);
	if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->sock, &ev)) {
		err("cannot watch the link socket: %s", strerror(errno));
		close(l->sock);
		l->sock = -1;
		schedule_reconnect(l);
		return;
	}
	if (!connect(l->sock, (struct sockaddr *)&l->addr, sizeof(l->addr))) {
		connected(l);
	} else if (errno == EINPROGRESS) {
		l->connecting = true;
	} else {
		connect_failed(l, errno);
	}
}

static void deliver_bundles(struct link_unix *l)
{
	const uint8_t *bundle;
	size_t len;
	enum proto_bundle_status reason;
	enum stream_result result;
	char text[96];

	while ((result = stream_rx_next(&l->rx, &bundle, &len, &reason)) == STREAM_BUNDLE) {
		l->link.callbacks->bundle_received(l->link.ctx, bundle, len);
		if (l->sock < 0 || l->failed)
			return;
	}
	if (result == STREAM_BAD_HEADER) {
		l->link.callbacks->bundle_dropped(l->link.ctx, reason);
		snprintf(text, sizeof(text), "bad bundle header (%s): the stream is out of step",
			 proto_bundle_status_name(reason));
		warn_limited("%s; reconnecting", text);
		disconnect(l, text);
	}
}

static void read_socket(struct link_unix *l)
{
	for (int i = 0; i < READS_PER_EVENT; i++) {
		size_t room;
		uint8_t *tail = stream_rx_tail(&l->rx, &room);
		ssize_t n = recv(l->sock, tail, room, MSG_DONTWAIT);

		if (n > 0) {
			stream_rx_produced(&l->rx, (size_t)n);
			deliver_bundles(l);
			if (l->sock < 0 || l->failed || (size_t)n < room)
				return;
		} else if (n == 0) {
			disconnect(l, "the host closed the connection");
			return;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return;
		} else {
			char text[128];
			snprintf(text, sizeof(text), "receive error: %s", strerror(errno));
			disconnect(l, text);
			return;
		}
	}
}

static bool link_unix_can_send(const struct link *link)
{
	const struct link_unix *l = (const struct link_unix *)link;

	return l->connected && !l->failed && l->txq_tail - l->txq_head <= TXQ_LOW_WATER;
}

static void flush_queue(struct link_unix *l)
{
	while (l->txq_head < l->txq_tail) {
		ssize_t n = send(l->sock, l->txq + l->txq_head, l->txq_tail - l->txq_head,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			l->txq_head += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			char text[128];
			snprintf(text, sizeof(text), "send error: %s", strerror(errno));
			disconnect(l, text);
			return;
		}
	}
	if (l->txq_head == l->txq_tail) {
		l->txq_head = 0;
		l->txq_tail = 0;
		l->want_out = false;
		update_events(l);
	}
	if (link_unix_can_send(&l->link))
		l->link.callbacks->writable(l->link.ctx);
}

static void handle_socket_event(struct link_unix *l, uint32_t events)
{
	if (l->failed)
		return; /* closing from the timer */
	if (l->connecting) {
		int error = 0;
		socklen_t len = sizeof(error);
		if (getsockopt(l->sock, SOL_SOCKET, SO_ERROR, &error, &len))
			error = errno;
		if (!error)
			connected(l);
		else
			connect_failed(l, error);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		read_socket(l);
	if (l->connected && !l->failed && (events & EPOLLOUT))
		flush_queue(l);
}

static void link_unix_handle_event(struct link *link, int fd, uint32_t events)
{
	struct link_unix *l = to_unix(link);

	if (fd == l->timer) {
		uint64_t expirations;
		if (read(l->timer, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
			err("cannot read the link timer: %s", strerror(errno));
		if (l->failed) {
			char reason[sizeof(l->fail_reason)];
			memcpy(reason, l->fail_reason, sizeof(reason));
			disconnect(l, reason);
		} else if (l->sock < 0) {
			try_connect(l);
		}
	} else if (fd == l->sock) {
		handle_socket_event(l, events);
	}
}

static void txq_append(struct link_unix *l, const uint8_t *data, size_t len)
{
	if (TXQ_CAP - l->txq_tail < len) {
		memmove(l->txq, l->txq + l->txq_head, l->txq_tail - l->txq_head);
		l->txq_tail -= l->txq_head;
		l->txq_head = 0;
	}
	memcpy(l->txq + l->txq_tail, data, len);
	l->txq_tail += len;
}

static enum link_send_result link_unix_send(struct link *link, const uint8_t *bundle,
					    size_t len)
{
	struct link_unix *l = to_unix(link);
	size_t sent = 0;

	if (!l->connected || l->failed || len > PROTO_BUNDLE_ABS_MAX)
		return LINK_SEND_DOWN;
	if (l->txq_head == l->txq_tail) {
		ssize_t n = send(l->sock, bundle, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0) {
			sent = (size_t)n;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			char text[128];
			snprintf(text, sizeof(text), "send error: %s", strerror(errno));
			fail(l, text);
			return LINK_SEND_DOWN;
		}
		if (sent == len)
			return LINK_SEND_QUEUED;
	} else if (TXQ_CAP - (l->txq_tail - l->txq_head) < len) {
		return LINK_SEND_BUSY;
	}
	txq_append(l, bundle + sent, len - sent);
	if (!l->want_out) {
		l->want_out = true;
		update_events(l);
	}
	return LINK_SEND_QUEUED;
}

static void link_unix_reset(struct link *link, const char *reason)
{
	fail(to_unix(link), reason);
}

static int link_unix_start(struct link *link, int epoll_fd)
{
	struct link_unix *l = to_unix(link);
	struct epoll_event ev = { .events = EPOLLIN };

	l->epoll_fd = epoll_fd;
	l->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timer < 0) {
		err("cannot create a timerfd: %s", strerror(errno));
		return -1;
	}
	ev.data.u64 = epoll_ref(EPOLL_OWNER_LINK, l->timer);
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, l->timer, &ev)) {
		err("cannot watch the link timer: %s", strerror(errno));
		return -1;
	}
	try_connect(l);
	return 0;
}

static void link_unix_stop(struct link *link)
{
	struct link_unix *l = to_unix(link);

	close_socket(l);
	if (l->timer >= 0)
		close(l->timer);
	free(l->rx_buf);
	free(l->txq);
	free(l);
}

static const struct link_ops link_unix_ops = {
	.name = "unix",
	.start = link_unix_start,
	.handle_event = link_unix_handle_event,
	.send = link_unix_send,
	.can_send = link_unix_can_send,
	.reset = link_unix_reset,
	.stop = link_unix_stop,
};

struct link *link_unix_new(const char *path, uint32_t rx_max_bundle,
			   const struct link_callbacks *callbacks, void *ctx)
{
	struct link_unix *l = calloc(1, sizeof(*l));

	if (!l || strlen(path) >= sizeof(l->addr.sun_path)) {
		free(l);
		return NULL;
	}
	l->link.ops = &link_unix_ops;
	l->link.callbacks = callbacks;
	l->link.ctx = ctx;
	l->link.rx_max_bundle = rx_max_bundle;
	l->addr.sun_family = AF_UNIX;
	memcpy(l->addr.sun_path, path, strlen(path) + 1);
	l->sock = -1;
	l->timer = -1;
	l->backoff_ms = BACKOFF_MIN_MS;
	l->rx_buf = malloc((size_t)rx_max_bundle + STREAM_SLACK);
	l->txq = malloc(TXQ_CAP);
	if (!l->rx_buf || !l->txq) {
		free(l->rx_buf);
		free(l->txq);
		free(l);
		return NULL;
	}
	stream_rx_init(&l->rx, l->rx_buf, rx_max_bundle);
	return &l->link;
}
