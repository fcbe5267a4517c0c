/* USB transport (--link usb): the gadget's bulk endpoints driven by Linux
 * native AIO (raw syscalls, completions signalled on an eventfd in epoll),
 * ep0 events and vendor requests, ZLPs, link state and the LINK_TEST filler. */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/aio_abi.h>
#include <linux/usb/ch9.h>
#include <linux/usb/functionfs.h>

#include "aio.h"
#include "bytes.h"
#include "clock.h"
#include "ep0.h"
#include "epoll_ref.h"
#include "link.h"
#include "log.h"
#include "stats.h"

/* Tunables; the measurements behind them are in doc/DESIGN.md (a build may
 * override them with -D for such measurements). */
#ifndef USB_RX_DEPTH
#define USB_RX_DEPTH 4		/* OUT reads kept posted */
#endif
#ifndef USB_TX_DEPTH
#define USB_TX_DEPTH 4		/* IN writes in flight for the data path */
#endif
/* IN slots: LINK_TEST filler takes at most USB_TX_DEPTH of them, so one is
 * left for the data path and one is always kept for control messages. */
#define USB_TX_SLOTS (USB_TX_DEPTH + 2)
#define USB_TX_CONTROL_RESERVE 1
#define USB_TEST_RESERVE (USB_TX_CONTROL_RESERVE + 1)
#define USB_RETRY_MS 100	/* before re-posting reads after a failed one */
#define USB_EP0_ROUNDS 8	/* ep0 reads per epoll event */
#define USB_EP0_RETRIES 50	/* SETUP answers while ep0 is locked, 1 ms apart */
#define USB_STOP_WAIT_MS 2000	/* for cancelled transfers at exit */
#define USB_MPS_MAX 1024u
#define AIO_BATCH 32

enum iocb_kind {
	IOCB_RX = 1,
	IOCB_TX = 2,
	IOCB_ZLP = 3,
};

struct rx_slot {
	struct iocb iocb;
	uint8_t *buf;
	bool busy;
	uint32_t gen;
};

struct tx_slot {
	struct iocb iocb[2];	/* the bundle, then a ZLP when needed */
	uint8_t *buf;		/* own copy (the filler uses a shared buffer) */
	unsigned pending;	/* submitted iocbs not completed yet */
	size_t len;
	bool filler;
	bool failed;
	bool cancelled;
	uint32_t gen;
};

struct link_usb {
	struct link link;
	const struct gadget_config *config;
	struct gadget gadget;
	int epoll_fd;
	int ep0;
	int ep_out;
	int ep_in;
	aio_context_t aio;
	int event_fd;
	int timer_fd;
	bool ep0_failed;
	bool rx_retry;		/* reads wait for the retry timer */
	struct ep0_state ep0_state;
	bool up;
	uint32_t gen;		/* bumped at each link change */
	uint16_t mps;		/* bulk wMaxPacketSize at the current speed */
	size_t rx_len;		/* MAX_BUNDLE rounded up to mps */
	size_t rx_buf_size;
	struct rx_slot rx[USB_RX_DEPTH];
	struct tx_slot tx[USB_TX_SLOTS];
	/* LINK_TEST */
	bool test_active;
	uint64_t test_start_ms;
	uint64_t test_end_ms;
	uint8_t *test_buf;
	size_t test_len;
	uint64_t test_bundles;
	uint64_t test_bytes;
};

static long sys_io_setup(unsigned nr, aio_context_t *ctx)
{
	return syscall(__NR_io_setup, nr, ctx);
}

static long sys_io_destroy(aio_context_t ctx)
{
	return syscall(__NR_io_destroy, ctx);
}

static long sys_io_submit(aio_context_t ctx, long n, struct iocb **iocbs)
{
	return syscall(__NR_io_submit, ctx, n, iocbs);
}

static long sys_io_cancel(aio_context_t ctx, struct iocb *iocb, struct io_event *result)
{
	return syscall(__NR_io_cancel, ctx, iocb, result);
}

static long sys_io_getevents(aio_context_t ctx, long min, long max, struct io_event *events,
			     const struct aio_timeout *timeout)
{
	return aio_getevents(ctx, min, max, events, timeout);
}

static struct link_usb *to_usb(struct link *link)
{
	return (struct link_usb *)link;
}

static void prep(struct link_usb *l, struct iocb *cb, int fd, bool write, void *buf, size_t len,
		 enum iocb_kind kind, unsigned index)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_data = (uint64_t)kind << 8 | index;
	cb->aio_lio_opcode = write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
	cb->aio_fildes = (uint32_t)fd;
	cb->aio_buf = (uint64_t)(uintptr_t)buf;
	cb->aio_nbytes = len;
	cb->aio_flags = IOCB_FLAG_RESFD;
	cb->aio_resfd = (uint32_t)l->event_fd;
}

static void arm_retry(struct link_usb *l)
{
	struct itimerspec spec = { .it_value.tv_nsec = USB_RETRY_MS * 1000000L };

	if (l->rx_retry)
		return;
	l->rx_retry = true;
	if (timerfd_settime(l->timer_fd, 0, &spec, NULL))
		err("cannot arm the USB retry timer: %s", strerror(errno));
}

/* Keeps every idle read posted while the link is up. */
static void post_reads(struct link_usb *l)
{
	if (!l->up || l->rx_retry)
		return;
	for (unsigned i = 0; i < USB_RX_DEPTH; i++) {
		struct rx_slot *slot = &l->rx[i];
		struct iocb *list[1] = { &slot->iocb };

		if (slot->busy)
			continue;
		prep(l, &slot->iocb, l->ep_out, false, slot->buf, l->rx_len, IOCB_RX, i);
		if (sys_io_submit(l->aio, 1, list) != 1) {
			stats.usb_rx_errors++;
			warn_limited("cannot post a USB read: %s; retrying", strerror(errno));
			arm_retry(l);
			return;
		}
		slot->busy = true;
		slot->gen = l->gen;
	}
}

static unsigned free_tx_slots(const struct link_usb *l)
{
	unsigned n = 0;

	for (unsigned i = 0; i < USB_TX_SLOTS; i++)
		n += !l->tx[i].pending;
	return n;
}

static int free_tx_slot(const struct link_usb *l)
{
	for (unsigned i = 0; i < USB_TX_SLOTS; i++)
		if (!l->tx[i].pending)
			return (int)i;
	return -1;
}

/* Submits one bundle, followed by a zero-length packet when its length is a
 * multiple of wMaxPacketSize (the host's read then ends). */
static bool submit_tx(struct link_usb *l, unsigned index, uint8_t *data, size_t len, bool filler)
{
	struct tx_slot *slot = &l->tx[index];
	struct iocb *list[2] = { &slot->iocb[0], &slot->iocb[1] };
	long count = 1;

	prep(l, &slot->iocb[0], l->ep_in, true, data, len, IOCB_TX, index);
	if (len % l->mps == 0) {
		prep(l, &slot->iocb[1], l->ep_in, true, data, 0, IOCB_ZLP, index);
		count = 2;
	}
	long n = sys_io_submit(l->aio, count, list);
	if (n <= 0) {
		stats.usb_tx_errors++;
		debug("cannot submit a USB write: %s", n < 0 ? strerror(errno) : "none taken");
		return false;
	}
	slot->pending = (unsigned)n;
	slot->len = len;
	slot->filler = filler;
	slot->failed = n != count;	/* a bundle without its ZLP */
	slot->cancelled = false;
	slot->gen = l->gen;
	return true;
}

static void cancel_iocb(struct link_usb *l, struct iocb *iocb)
{
	struct io_event ignored;

	/* -EINPROGRESS: the completion comes through the ring as usual. */
	if (sys_io_cancel(l->aio, iocb, &ignored) && errno != EINPROGRESS && errno != EINVAL &&
	    errno != EAGAIN)
		debug("io_cancel: %s", strerror(errno));
}

static void cancel_tx(struct link_usb *l)
{
	for (unsigned i = 0; i < USB_TX_SLOTS; i++) {
		struct tx_slot *slot = &l->tx[i];

		if (!slot->pending || slot->cancelled)
			continue;
		slot->cancelled = true;
		stats.usb_cancelled++;
		cancel_iocb(l, &slot->iocb[0]);
		if (slot->len % l->mps == 0)
			cancel_iocb(l, &slot->iocb[1]);
	}
}

static void cancel_all(struct link_usb *l)
{
	for (unsigned i = 0; i < USB_RX_DEPTH; i++) {
		if (l->rx[i].busy) {
			stats.usb_cancelled++;
			cancel_iocb(l, &l->rx[i].iocb);
		}
	}
	cancel_tx(l);
}

static void stop_test(struct link_usb *l, const char *why)
{
	if (!l->test_active)
		return;
	l->test_active = false;
	uint64_t ms = clock_now_ms() - l->test_start_ms;
	info_limited("LINK_TEST %s: %" PRIu64 " filler bundles, %" PRIu64 " bytes in %" PRIu64 " ms", why,
		     l->test_bundles, l->test_bytes, ms);
}

/* Keeps the IN pipe full of channel-65535 bundles of the host's MAX_BUNDLE
 * while LINK_TEST runs, leaving slots for data and control. */
static void fill_test(struct link_usb *l)
{
	if (!l->test_active || !l->up)
		return;
	if (clock_now_ms() >= l->test_end_ms) {
		stop_test(l, "finished");
		return;
	}
	uint32_t size = l->link.callbacks->tx_limit(l->link.ctx);
	if (size > PROTO_BUNDLE_ABS_MAX)
		size = PROTO_BUNDLE_ABS_MAX;
	if (size != l->test_len) {
		struct proto_builder builder;
		proto_builder_init(&builder, l->test_buf, size);
		proto_builder_commit(&builder, PROTO_CHANNEL_LINK_TEST,
				     size - PROTO_BUNDLE_HDR_LEN - PROTO_FRAME_HDR_LEN);
		l->test_len = proto_builder_finish(&builder);
	}
	while (free_tx_slots(l) > USB_TEST_RESERVE) {
		if (!submit_tx(l, (unsigned)free_tx_slot(l), l->test_buf, l->test_len, true))
			return;
		stats.link_test_tx++;
	}
}

static void start_test(struct link_usb *l, uint16_t ms)
{
	if (!ms) {
		stop_test(l, "stopped by the host");
		return;
	}
	if (!l->up)
		return;
	if (!l->test_buf && !(l->test_buf = calloc(1, PROTO_BUNDLE_ABS_MAX))) {
		err("LINK_TEST: out of memory");
		return;
	}
	if (!l->test_active) {
		l->test_start_ms = clock_now_ms();
		l->test_bundles = 0;
		l->test_bytes = 0;
	}
	l->test_active = true;
	l->test_end_ms = clock_now_ms() + ms;
	info_limited("LINK_TEST for %u ms: filling the IN pipe with %u-byte bundles", ms,
		     l->link.callbacks->tx_limit(l->link.ctx));
	fill_test(l);
}

/* wMaxPacketSize at the negotiated speed, from the endpoint itself. */
static void learn_mps(struct link_usb *l)
{
	struct usb_endpoint_descriptor desc;
	char speed[32] = "unknown speed";

	gadget_udc_speed(&l->gadget, speed, sizeof(speed));
	memset(&desc, 0, sizeof(desc));
	if (!ioctl(l->ep_in, FUNCTIONFS_ENDPOINT_DESC, &desc) && desc.bLength >= USB_DT_ENDPOINT_SIZE) {
		l->mps = le16toh(desc.wMaxPacketSize) & 0x7ff;
	} else {
		/* The speed decides the packet size of our bulk endpoints; when
		 * unknown, the smallest errs on the side of an extra ZLP. */
		l->mps = strstr(speed, "super") ? USB_DESC_SS_BULK_MPS :
			 !strcmp(speed, "high-speed") ? USB_DESC_HS_BULK_MPS : USB_DESC_FS_BULK_MPS;
		warn("cannot read the IN endpoint descriptor (%s): assuming wMaxPacketSize %u",
		     strerror(errno), l->mps);
	}
	if (!l->mps || l->mps > USB_MPS_MAX)
		l->mps = USB_DESC_FS_BULK_MPS;
	l->rx_len = (l->link.rx_max_bundle + l->mps - 1) / l->mps * l->mps;
	if (l->rx_len > l->rx_buf_size)
		l->rx_len = l->rx_buf_size / l->mps * l->mps;
	info_limited("USB link at %s: wMaxPacketSize %u, %u reads of %zu bytes posted", speed, l->mps,
		     USB_RX_DEPTH, l->rx_len);
}

static void go_down(struct link_usb *l, const char *reason)
{
	if (!l->up)
		return;
	l->up = false;
	l->gen++;
	stop_test(l, "stopped: link down");
	cancel_all(l);
	l->link.callbacks->down(l->link.ctx, reason);
}

static void go_up(struct link_usb *l)
{
	learn_mps(l);
	l->up = true;
	l->gen++;
	post_reads(l);
	l->link.callbacks->up(l->link.ctx);
}

/* Runs a SETUP answer, retrying briefly while another ep0 user holds the
 * FunctionFS lock (the fd is non-blocking); never waits unbounded. */
static ssize_t ep0_io(struct link_usb *l, bool write_dir, void *buf, size_t len)
{
	const struct timespec ms = { .tv_nsec = 1000000L };

	for (int i = 0; i < USB_EP0_RETRIES; i++) {
		ssize_t n = write_dir ? write(l->ep0, buf, len) : read(l->ep0, buf, len);
		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			return n;
		nanosleep(&ms, NULL);
	}
	return -1;
}

static void answer_setup(struct link_usb *l, const struct ep0_action *a)
{
	uint8_t buf[PROTO_CONTROL_MAX];
	ssize_t n = 0;

	switch (a->reply) {
	case EP0_REPLY_NONE:
		return;
	case EP0_REPLY_DATA: {
		size_t len = l->link.callbacks->hello_payload(l->link.ctx, buf, sizeof(buf));
		if (len > a->reply_max)
			len = a->reply_max;
		n = ep0_io(l, true, buf, len);
		break;
	}
	case EP0_REPLY_ACK:
		n = ep0_io(l, false, buf, 0);
		break;
	case EP0_REPLY_STALL:
		/* The call of the wrong direction makes FunctionFS stall. */
		stats.usb_stalled++;
		ep0_io(l, !a->setup_in, buf, 0);
		return;
	}
	if (n < 0) {
		/* EIDRM: a newer event cancelled this request. */
		debug("ep0 answer: %s", strerror(errno));
		return;
	}
	switch (a->request) {
	case EP0_RESET_LINK:
		if (!l->up)
			break;
		info_limited("host sent RESET_LINK: restarting the session");
		stop_test(l, "stopped by RESET_LINK");
		l->link.callbacks->restart(l->link.ctx);
		break;
	case EP0_LINK_TEST:
		start_test(l, a->value);
		break;
	case EP0_GET_INFO:
	case EP0_NONE:
		break;
	}
}

static void handle_ep0_event(struct link_usb *l, const struct usb_functionfs_event *event)
{
	struct ep0_action action;

	stats.usb_events++;
	if (event->type == FUNCTIONFS_SETUP)
		debug("ep0 SETUP %02x %02x value %04x index %04x length %u",
		      event->u.setup.bRequestType, event->u.setup.bRequest,
		      le16toh(event->u.setup.wValue), le16toh(event->u.setup.wIndex),
		      le16toh(event->u.setup.wLength));
	else
		debug("ep0 %s", ep0_event_name(event->type));
	ep0_handle(&l->ep0_state, event, &action);
	switch (action.link) {
	case EP0_LINK_SAME:
		break;
	case EP0_LINK_UP:
		go_up(l);
		break;
	case EP0_LINK_DOWN:
		go_down(l, action.reason);
		break;
	case EP0_LINK_RESTART:
		go_down(l, action.reason);
		go_up(l);
		break;
	}
	answer_setup(l, &action);
}

static void read_ep0(struct link_usb *l)
{
	struct usb_functionfs_event events[4];

	for (int round = 0; round < USB_EP0_ROUNDS && !l->ep0_failed; round++) {
		ssize_t n = read(l->ep0, events, sizeof(events));
		if (n < 0 && (errno == EINTR || errno == EIDRM))
			continue;	/* EIDRM: a cancelled SETUP was cleared */
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			err("cannot read USB events from ep0: %s: the gadget is unusable; stopping (exit 1) so that qbnetd is started afresh",
			    n < 0 ? strerror(errno) : "end of file");
			l->link.failed = true;
			epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, l->ep0, NULL);
			l->ep0_failed = true;
			go_down(l, "ep0 failed");
			return;
		}
		for (size_t i = 0; i < (size_t)n / sizeof(events[0]); i++)
			handle_ep0_event(l, &events[i]);
	}
}

static void rx_done(struct link_usb *l, struct rx_slot *slot, int64_t res)
{
	slot->busy = false;
	if (slot->gen != l->gen || !l->up)
		return;		/* cancelled at a link change */
	if (res < 0) {
		stats.usb_rx_errors++;
		debug("USB read failed: %s", strerror((int)-res));
		arm_retry(l);
		return;
	}
	if (!res) {
		/* The ZLP after a bundle that filled a whole read. */
		stats.usb_rx_zlp++;
		return;
	}
	l->link.callbacks->bundle_received(l->link.ctx, slot->buf, (size_t)res);
}

static void tx_done(struct link_usb *l, struct tx_slot *slot, enum iocb_kind kind, int64_t res)
{
	if (!slot->pending)
		return;
	slot->pending--;
	if (res < 0 || (kind == IOCB_TX && (size_t)res != slot->len)) {
		if (!slot->failed && !slot->cancelled && slot->gen == l->gen)
			debug("USB write of %zu bytes: %s", slot->len,
			      res < 0 ? strerror((int)-res) : "short");
		slot->failed = true;
	} else if (kind == IOCB_TX && slot->filler) {
		l->test_bundles++;
		l->test_bytes += (uint64_t)res;
	}
	if (!slot->pending && slot->failed && !slot->cancelled && slot->gen == l->gen)
		stats.usb_tx_errors++;
}

static void reap(struct link_usb *l)
{
	struct io_event events[AIO_BATCH];
	struct aio_timeout zero = aio_timeout_ms(0);
	uint64_t count;

	if (read(l->event_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		err("cannot read the AIO eventfd: %s", strerror(errno));
	for (;;) {
		long n = sys_io_getevents(l->aio, 0, AIO_BATCH, events, &zero);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (long i = 0; i < n; i++) {
			unsigned kind = (unsigned)(events[i].data >> 8);
			unsigned index = (unsigned)(events[i].data & 0xff);
			if (kind == IOCB_RX && index < USB_RX_DEPTH)
				rx_done(l, &l->rx[index], events[i].res);
			else if ((kind == IOCB_TX || kind == IOCB_ZLP) && index < USB_TX_SLOTS)
				tx_done(l, &l->tx[index], kind, events[i].res);
		}
		if (n < AIO_BATCH)
			break;
	}
	post_reads(l);
	fill_test(l);
	if (l->up && free_tx_slots(l) > USB_TX_CONTROL_RESERVE)
		l->link.callbacks->writable(l->link.ctx);
}

static void link_usb_handle_event(struct link *link, int fd, uint32_t events)
{
	struct link_usb *l = to_usb(link);

	(void)events;
	if (fd == l->ep0) {
		read_ep0(l);
	} else if (fd == l->event_fd) {
		reap(l);
	} else if (fd == l->timer_fd) {
		uint64_t expirations;
		if (read(l->timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
			err("cannot read the USB retry timer: %s", strerror(errno));
		l->rx_retry = false;
		post_reads(l);
	}
}

static bool link_usb_can_send(const struct link *link)
{
	const struct link_usb *l = (const struct link_usb *)link;

	return l->up && free_tx_slots(l) > USB_TX_CONTROL_RESERVE;
}

static enum link_send_result link_usb_send(struct link *link, const uint8_t *bundle, size_t len)
{
	struct link_usb *l = to_usb(link);

	if (!l->up || len > PROTO_BUNDLE_ABS_MAX)
		return LINK_SEND_DOWN;
	int index = free_tx_slot(l);
	if (index < 0)
		return LINK_SEND_BUSY;
	memcpy(l->tx[index].buf, bundle, len);
	if (!submit_tx(l, (unsigned)index, l->tx[index].buf, len, false))
		return LINK_SEND_DOWN;
	return LINK_SEND_QUEUED;
}

/* The host went silent: what is queued for it is stale. The link stays up
 * (the session waits for a host HELLO); reads stay posted. */
static void link_usb_reset(struct link *link, const char *reason)
{
	struct link_usb *l = to_usb(link);

	if (!l->up)
		return;
	info_limited("%s: dropping the bundles queued for the host", reason);
	stop_test(l, "stopped: link reset");
	cancel_tx(l);
}

static int watch(struct link_usb *l, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = epoll_ref(EPOLL_OWNER_LINK, fd) };

	if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev)) {
		err("cannot watch a USB fd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int link_usb_start(struct link *link, int epoll_fd)
{
	struct link_usb *l = to_usb(link);
	char text[512];

	l->epoll_fd = epoll_fd;
	if (sys_io_setup(USB_RX_DEPTH + 2 * USB_TX_SLOTS + 8, &l->aio)) {
		err("io_setup: %s (the kernel needs CONFIG_AIO; check /proc/sys/fs/aio-max-nr)",
		    strerror(errno));
		return -1;
	}
	l->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->event_fd < 0 || l->timer_fd < 0) {
		err("cannot create an eventfd or timerfd: %s", strerror(errno));
		return -1;
	}
	if (gadget_create(&l->gadget, l->config, text, sizeof(text))) {
		err("%s", text);
		return -1;
	}
	l->ep0 = l->gadget.ep0;
	l->ep_out = l->gadget.eps[USB_QBNET_EP_OUT_FILE];
	l->ep_in = l->gadget.eps[USB_QBNET_EP_IN_FILE];
	if (watch(l, l->ep0) || watch(l, l->event_fd) || watch(l, l->timer_fd))
		return -1;
	info("waiting for the host to enumerate the board");
	return 0;
}

/* Waits (bounded) until every submitted transfer has completed, so that no
 * buffer is freed under the kernel. No callbacks. */
static bool drain(struct link_usb *l)
{
	uint64_t deadline = clock_now_ms() + USB_STOP_WAIT_MS;

	for (;;) {
		unsigned busy = 0;
		for (unsigned i = 0; i < USB_RX_DEPTH; i++)
			busy += l->rx[i].busy;
		for (unsigned i = 0; i < USB_TX_SLOTS; i++)
			busy += l->tx[i].pending;
		uint64_t now = clock_now_ms();
		if (!busy)
			return true;
		if (now >= deadline) {
			warn("%u USB transfers did not complete at exit", busy);
			return false;
		}
		struct io_event events[AIO_BATCH];
		struct aio_timeout timeout = aio_timeout_ms(100);
		long n = sys_io_getevents(l->aio, 1, AIO_BATCH, events, &timeout);
		for (long i = 0; i < n; i++) {
			unsigned kind = (unsigned)(events[i].data >> 8);
			unsigned index = (unsigned)(events[i].data & 0xff);
			if (kind == IOCB_RX && index < USB_RX_DEPTH)
				l->rx[index].busy = false;
			else if (index < USB_TX_SLOTS && l->tx[index].pending)
				l->tx[index].pending--;
		}
	}
}

static void link_usb_stop(struct link *link)
{
	struct link_usb *l = to_usb(link);
	bool drained = true;

	l->test_active = false;
	l->up = false;
	if (l->aio) {
		cancel_all(l);
		/* Unbinding disables the endpoints: every request completes. */
		gadget_unbind(&l->gadget);
		drained = drain(l);
		if (drained)
			sys_io_destroy(l->aio);
	}
	if (l->event_fd >= 0)
		close(l->event_fd);
	if (l->timer_fd >= 0)
		close(l->timer_fd);
	gadget_destroy(&l->gadget);
	info("USB gadget removed");
	if (!drained)
		return;		/* buffers may still be in the kernel's hands */
	for (unsigned i = 0; i < USB_RX_DEPTH; i++)
		free(l->rx[i].buf);
	for (unsigned i = 0; i < USB_TX_SLOTS; i++)
		free(l->tx[i].buf);
	free(l->test_buf);
	free(l);
}

static const struct link_ops link_usb_ops = {
	.name = "usb",
	.start = link_usb_start,
	.handle_event = link_usb_handle_event,
	.send = link_usb_send,
	.can_send = link_usb_can_send,
	.reset = link_usb_reset,
	.stop = link_usb_stop,
};

struct link *link_usb_new(const struct gadget_config *config, uint32_t rx_max_bundle,
			  const struct link_callbacks *callbacks, void *ctx)
{
	struct link_usb *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->link.ops = &link_usb_ops;
	l->link.callbacks = callbacks;
	l->link.ctx = ctx;
	l->link.rx_max_bundle = rx_max_bundle;
	l->config = config;
	l->event_fd = -1;
	l->timer_fd = -1;
	l->gadget.ep0 = -1;
	for (unsigned i = 0; i <= GADGET_ENDPOINTS_MAX; i++)
		l->gadget.eps[i] = -1;
	l->mps = USB_DESC_FS_BULK_MPS;
	ep0_init(&l->ep0_state);
	/* Room for MAX_BUNDLE rounded up to any wMaxPacketSize. */
	l->rx_buf_size = (rx_max_bundle + USB_MPS_MAX - 1) / USB_MPS_MAX * USB_MPS_MAX;
	bool ok = true;
	for (unsigned i = 0; i < USB_RX_DEPTH; i++)
		ok = ok && (l->rx[i].buf = malloc(l->rx_buf_size));
	for (unsigned i = 0; i < USB_TX_SLOTS; i++)
		ok = ok && (l->tx[i].buf = malloc(PROTO_BUNDLE_ABS_MAX));
	if (!ok) {
		for (unsigned i = 0; i < USB_RX_DEPTH; i++)
			free(l->rx[i].buf);
		for (unsigned i = 0; i < USB_TX_SLOTS; i++)
			free(l->tx[i].buf);
		free(l);
		return NULL;
	}
	return &l->link;
}
