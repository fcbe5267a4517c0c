/* USB transport (--link usb): the gadget's bulk endpoints driven by Linux
 * native AIO (raw syscalls, completions signalled on an eventfd in epoll) in
 * requests of at most --usb-request-size, OUT reads reassembled in a mirrored
 * ring, ep0 events and vendor requests, ZLPs, link state and LINK_TEST. */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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
#include "usb_xfer.h"

/* Tunables; the measurements behind them are in doc/DESIGN.md (a build may
 * override them with -D for such measurements). */
#ifndef USB_RX_BYTES
#define USB_RX_BYTES 262144u	/* OUT reads kept posted, in bytes (whatever their size) */
#endif
#define USB_RX_DEPTH_MIN 4u
#define USB_RX_DEPTH_MAX 64u
#ifndef USB_TX_DEPTH
#define USB_TX_DEPTH 4		/* IN bundles in flight for the data path */
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
#define USB_UDC_POLL_MS 500	/* --wait-udc: how often /sys/class/udc is looked at */
#define USB_UDC_LOG_FIRST_MS 60000u	/* then "still waiting" after a minute */
#define USB_UDC_LOG_EVERY_MS 600000u	/* and every 10 minutes */
#define AIO_BATCH 64

enum iocb_kind {
	IOCB_RX = 1,
	IOCB_TX = 2,
	IOCB_ZLP = 3,
};

/* aio_data: what completed. index: the read's ring slot or the IN slot;
 * part: which request of an IN bundle. */
static uint64_t aio_tag(enum iocb_kind kind, unsigned index, unsigned part)
{
	return (uint64_t)kind << 48 | (uint64_t)(index & 0xffff) << 32 | part;
}

/* One OUT read of the ring. Read number seq uses slot seq % rx_slots, whose
 * buffer is at ring + slot * request: consecutive reads are consecutive in
 * memory, and the ring is mapped twice in a row, so a bundle over several
 * reads is contiguous even where it wraps. */
struct rx_read {
	struct iocb iocb;
	bool busy;		/* in the kernel's hands */
	bool done;		/* completed, not yet fed to the reassembler */
	int64_t res;
	uint32_t gen;
};

struct tx_slot {
	struct iocb *iocbs;	/* tx_parts of them: a bundle's requests and ZLPs */
	uint8_t *buf;		/* own copy (the filler uses a shared buffer) */
	unsigned submitted;	/* iocbs submitted for this bundle */
	unsigned pending;	/* of those, not completed yet */
	size_t len;
	size_t sent;		/* bytes the completed requests moved */
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
	int udc_timer_fd;	/* --wait-udc: polls for the UDC; -1 when bound */
	uint64_t udc_wait_start_ms;
	uint64_t udc_next_log_ms;
	bool ep0_failed;
	bool rx_retry;		/* reads wait for the retry timer */
	struct ep0_state ep0_state;
	bool up;
	uint32_t gen;		/* bumped at each link change */
	uint16_t mps;		/* bulk wMaxPacketSize at the current speed */
	size_t request;		/* the request size cap (--usb-request-size) */
	size_t rx_len;		/* MAX_BUNDLE rounded up to mps */
	size_t rx_buf_size;	/* MAX_BUNDLE rounded up to any mps */
	/* OUT: the ring of reads and the reassembler. */
	uint8_t *ring;		/* rx_slots * request bytes, mapped twice in a row */
	size_t ring_size;
	struct rx_read *rx;
	unsigned rx_slots;
	unsigned rx_depth;	/* reads kept posted */
	size_t rx_read_len;	/* bytes each read asks for */
	uint64_t rx_head;	/* oldest read whose buffer is still in use */
	uint64_t rx_fed;	/* next read to feed to the reassembler */
	uint64_t rx_post;	/* next read to post */
	struct usb_rx_asm rx_asm;
	/* IN */
	struct tx_slot tx[USB_TX_SLOTS];
	unsigned tx_parts;	/* iocbs per slot */
	struct iocb **tx_list;	/* io_submit's list, tx_parts long */
	size_t *tx_lens;	/* request lengths of the bundle being submitted */
	bool tx_resync;		/* an IN bundle was cut: a ZLP must end it first */
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
		 uint64_t tag)
{
	memset(cb, 0, sizeof(*cb));
	cb->aio_data = tag;
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

static bool rx_draining(const struct link_usb *l)
{
	for (unsigned i = 0; i < l->rx_slots; i++)
		if (l->rx[i].busy && l->rx[i].gen != l->gen)
			return true;
	return false;
}

/* Keeps rx_depth reads posted while the link is up, in ring order, in one
 * io_submit. Reads of an earlier link still in the kernel are waited for
 * first: their buffers are not ours until they complete. */
static void post_reads(struct link_usb *l)
{
	struct iocb *list[USB_RX_DEPTH_MAX];
	long count = 0;

	if (!l->up || l->rx_retry || rx_draining(l))
		return;
	while (l->rx_post - l->rx_fed + (uint64_t)count < l->rx_depth &&
	       l->rx_post + (uint64_t)count - l->rx_head < l->rx_slots) {
		unsigned slot = (unsigned)((l->rx_post + (uint64_t)count) % l->rx_slots);
		struct rx_read *read = &l->rx[slot];

		prep(l, &read->iocb, l->ep_out, false, l->ring + (size_t)slot * l->request,
		     l->rx_read_len, aio_tag(IOCB_RX, slot, 0));
		list[count++] = &read->iocb;
	}
	if (!count)
		return;
	long n = sys_io_submit(l->aio, count, list);
	for (long i = 0; i < n; i++) {
		struct rx_read *read = &l->rx[(l->rx_post + (uint64_t)i) % l->rx_slots];
		read->busy = true;
		read->done = false;
		read->gen = l->gen;
	}
	if (n > 0)
		l->rx_post += (uint64_t)n;
	if (n == count)
		return;
	stats.usb_rx_errors++;
	int error = n < 0 ? errno : EAGAIN;
	warn_limited("cannot post USB reads of %zu bytes: %s; retrying every %d ms%s", l->rx_read_len,
		     strerror(error), USB_RETRY_MS, error == ENOMEM ?
		     " (the kernel cannot allocate the request buffers: lower --usb-request-size)" : "");
	arm_retry(l);
}

/* Feeds the completed reads to the reassembler in the order they were
 * posted (completions may be reaped in another order); delivers bundles
 * from the ring and frees the reads behind them. */
static void feed_reads(struct link_usb *l)
{
	while (l->rx_fed != l->rx_post) {
		unsigned slot = (unsigned)(l->rx_fed % l->rx_slots);
		struct rx_read *read = &l->rx[slot];
		struct usb_rx_result r;

		if (!read->done)
			return;
		read->done = false;
		l->rx_fed++;
		if (read->res < 0) {
			bool lost;
			stats.usb_rx_errors++;
			debug("USB read failed: %s", strerror((int)-read->res));
			usb_rx_asm_abort(&l->rx_asm, &lost);
			if (lost)
				stats.usb_rx_cut++;
			l->rx_head = l->rx_fed;
			arm_retry(l);
			continue;
		}
		r = usb_rx_asm_feed(&l->rx_asm, (size_t)read->res);
		switch (r.step) {
		case USB_RX_MORE:
		case USB_RX_DISCARD:
			break;
		case USB_RX_ZLP:
			stats.usb_rx_zlp++;
			break;
		case USB_RX_BUNDLE: {
			uint32_t gen = l->gen;
			l->link.callbacks->bundle_received(l->link.ctx,
							   l->ring + (size_t)(l->rx_head % l->rx_slots) * l->request,
							   r.len);
			if (gen != l->gen)
				return;	/* the link changed under the callback */
			break;
		}
		case USB_RX_OVERSIZE:
		case USB_RX_INVALID:
			l->link.callbacks->bundle_dropped(l->link.ctx, PROTO_BUNDLE_BAD_LENGTH);
			break;
		}
		l->rx_head += r.release;
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

/* A lone ZLP from the slot's next iocb: ends an IN bundle that was cut. */
static bool submit_resync(struct link_usb *l, unsigned index)
{
	struct tx_slot *slot = &l->tx[index];
	struct iocb *cb = &slot->iocbs[slot->submitted];
	struct iocb *list[1] = { cb };

	if (slot->submitted == l->tx_parts)
		return false;
	prep(l, cb, l->ep_in, true, slot->buf, 0, aio_tag(IOCB_ZLP, index, slot->submitted));
	if (sys_io_submit(l->aio, 1, list) != 1)
		return false;
	slot->submitted++;
	slot->pending++;
	stats.usb_tx_resync++;
	return true;
}

/* Submits one bundle as requests of at most l->request bytes, followed by a
 * zero-length packet when its length is a multiple of wMaxPacketSize (the
 * host's read then ends), all in one io_submit. When the link cut an earlier
 * bundle, a ZLP goes first so that the host's read ends there. */
static bool submit_tx(struct link_usb *l, unsigned index, uint8_t *data, size_t len, bool filler)
{
	struct tx_slot *slot = &l->tx[index];
	unsigned lead = l->tx_resync ? 1 : 0;

	l->tx_lens[0] = 0;
	unsigned count = lead + usb_xfer_tx_split(len, l->request, l->mps, l->tx_lens + lead,
						  l->tx_parts - 1 - lead);
	if (count == lead)
		return false;	/* cannot happen: tx_parts fits the largest bundle */
	size_t offset = 0;
	for (unsigned i = 0; i < count; i++) {
		enum iocb_kind kind = l->tx_lens[i] ? IOCB_TX : IOCB_ZLP;
		prep(l, &slot->iocbs[i], l->ep_in, true, data + offset, l->tx_lens[i],
		     aio_tag(kind, index, i));
		l->tx_list[i] = &slot->iocbs[i];
		offset += l->tx_lens[i];
	}
	long n = sys_io_submit(l->aio, count, l->tx_list);
	if (n <= 0) {
		stats.usb_tx_errors++;
		debug("cannot submit a USB write: %s", n < 0 ? strerror(errno) : "none taken");
		return false;
	}
	slot->submitted = (unsigned)n;
	slot->pending = (unsigned)n;
	slot->len = len;
	slot->sent = 0;
	slot->filler = filler;
	slot->failed = n != (long)count;
	slot->cancelled = false;
	slot->gen = l->gen;
	if (lead)
		stats.usb_tx_resync++;
	l->tx_resync = false;
	if (n != (long)count && n > (long)lead) {
		/* Part of the bundle went without its end: the host's read would
		 * run on into the next bundle. */
		debug("USB write: %ld of %u requests submitted: %s", n, count, strerror(errno));
		l->tx_resync = !submit_resync(l, index);
	}
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

/* Cancels every IN request in flight. A bundle may be cut between two of
 * its packets, so the next bundle is preceded by a ZLP. */
static void cancel_tx(struct link_usb *l)
{
	for (unsigned i = 0; i < USB_TX_SLOTS; i++) {
		struct tx_slot *slot = &l->tx[i];

		if (!slot->pending || slot->cancelled)
			continue;
		slot->cancelled = true;
		l->tx_resync = true;
		stats.usb_cancelled++;
		for (unsigned p = 0; p < slot->submitted; p++)
			cancel_iocb(l, &slot->iocbs[p]);
	}
}

/* Cancels the reads in flight and forgets the bundle being reassembled;
 * their completions come later and only free their buffers. */
static void cancel_rx(struct link_usb *l)
{
	bool lost;

	for (unsigned i = 0; i < l->rx_slots; i++) {
		if (l->rx[i].busy) {
			stats.usb_cancelled++;
			cancel_iocb(l, &l->rx[i].iocb);
		}
		l->rx[i].done = false;
	}
	usb_rx_asm_abort(&l->rx_asm, &lost);
	if (lost)
		stats.usb_rx_cut++;
	l->rx_head = l->rx_fed = l->rx_post;
}

static void cancel_all(struct link_usb *l)
{
	cancel_rx(l);
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
	/* Both multiples of mps: only a bundle's last read can end short. */
	l->rx_read_len = l->rx_len < l->request ? l->rx_len : l->request;
	usb_rx_asm_init(&l->rx_asm, l->rx_read_len, l->rx_len);
	info_limited("USB link at %s: wMaxPacketSize %u, %u reads of %zu bytes posted, requests of up to %zu bytes",
		     speed, l->mps, l->rx_depth, l->rx_read_len, l->request);
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

static void rx_done(struct link_usb *l, unsigned slot, int64_t res)
{
	struct rx_read *read = &l->rx[slot];

	if (!read->busy)
		return;
	read->busy = false;
	if (read->gen != l->gen || !l->up)
		return;		/* cancelled at a link change */
	read->done = true;
	read->res = res;
}

/* The length the IN request number part of a slot's bundle asked for. */
static size_t tx_part_len(const struct link_usb *l, const struct tx_slot *slot, unsigned part,
			  enum iocb_kind kind)
{
	if (kind == IOCB_ZLP)
		return 0;
	/* A leading resync ZLP shifts the data requests by one. */
	if (slot->iocbs[0].aio_nbytes == 0)
		part--;
	size_t offset = (size_t)part * l->request;
	return slot->len - offset < l->request ? slot->len - offset : l->request;
}

static void tx_done(struct link_usb *l, unsigned index, enum iocb_kind kind, unsigned part,
		    int64_t res)
{
	struct tx_slot *slot = &l->tx[index];

	if (!slot->pending)
		return;
	slot->pending--;
	if (res < 0 || (size_t)res != tx_part_len(l, slot, part, kind)) {
		if (!slot->failed && !slot->cancelled && slot->gen == l->gen)
			debug("USB write of %zu bytes: %s", slot->len,
			      res < 0 ? strerror((int)-res) : "short");
		slot->failed = true;
	} else {
		slot->sent += (size_t)res;
	}
	if (slot->pending)
		return;
	if (slot->failed || slot->sent != slot->len) {
		if (!slot->cancelled && slot->gen == l->gen)
			stats.usb_tx_errors++;
	} else if (slot->filler) {
		l->test_bundles++;
		l->test_bytes += slot->len;
	}
}

/* Decodes a completion's aio_data. */
static void untag(uint64_t data, unsigned *kind, unsigned *index, unsigned *part)
{
	*kind = (unsigned)(data >> 48);
	*index = (unsigned)(data >> 32) & 0xffff;
	*part = (unsigned)data;
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
			unsigned kind, index, part;
			untag(events[i].data, &kind, &index, &part);
			if (kind == IOCB_RX && index < l->rx_slots)
				rx_done(l, index, events[i].res);
			else if ((kind == IOCB_TX || kind == IOCB_ZLP) && index < USB_TX_SLOTS)
				tx_done(l, index, (enum iocb_kind)kind, part, events[i].res);
		}
		if (n < AIO_BATCH)
			break;
	}
	if (l->up)
		feed_reads(l);
	post_reads(l);
	fill_test(l);
	if (l->up && free_tx_slots(l) > USB_TX_CONTROL_RESERVE)
		l->link.callbacks->writable(l->link.ctx);
}

static void try_bind(struct link_usb *l);

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
	} else if (fd == l->udc_timer_fd) {
		uint64_t expirations;
		if (read(l->udc_timer_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
			err("cannot read the UDC wait timer: %s", strerror(errno));
		try_bind(l);
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

static void stop_udc_wait(struct link_usb *l)
{
	if (l->udc_timer_fd < 0)
		return;
	epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, l->udc_timer_fd, NULL);
	close(l->udc_timer_fd);
	l->udc_timer_fd = -1;
}

/* --wait-udc: binds the gadget once its UDC exists. Log lines are bounded:
 * one at the start, one after a minute, then one every 10 minutes. */
static void try_bind(struct link_usb *l)
{
	char text[512];
	int rc = gadget_bind(&l->gadget, l->config, text, sizeof(text));
	uint64_t now = clock_now_ms();

	if (!rc) {
		stop_udc_wait(l);
		info("UDC %s appeared after %" PRIu64 " s: gadget bound; waiting for the host to enumerate the board",
		     l->gadget.udc, (now - l->udc_wait_start_ms) / 1000);
		return;
	}
	if (now < l->udc_next_log_ms)
		return;
	l->udc_next_log_ms = now + USB_UDC_LOG_EVERY_MS;
	info("still waiting for a UDC after %" PRIu64 " s: %s", (now - l->udc_wait_start_ms) / 1000,
	     text);
}

static int start_udc_wait(struct link_usb *l, const char *why)
{
	struct itimerspec every = { .it_value.tv_nsec = USB_UDC_POLL_MS * 1000000L,
				    .it_interval.tv_nsec = USB_UDC_POLL_MS * 1000000L };

	l->udc_timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->udc_timer_fd < 0 || timerfd_settime(l->udc_timer_fd, 0, &every, NULL)) {
		err("cannot create the UDC wait timer: %s", strerror(errno));
		return -1;
	}
	l->udc_wait_start_ms = clock_now_ms();
	l->udc_next_log_ms = l->udc_wait_start_ms + USB_UDC_LOG_FIRST_MS;
	info("waiting for a UDC (--wait-udc): %s", why);
	return watch(l, l->udc_timer_fd);
}

static int link_usb_start(struct link *link, int epoll_fd)
{
	struct link_usb *l = to_usb(link);
	char text[512];

	l->epoll_fd = epoll_fd;
	if (sys_io_setup(l->rx_slots + USB_TX_SLOTS * l->tx_parts + 8, &l->aio)) {
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
	int rc = gadget_create(&l->gadget, l->config, text, sizeof(text));
	if (rc < 0) {
		err("%s", text);
		return -1;
	}
	l->ep0 = l->gadget.ep0;
	l->ep_out = l->gadget.eps[USB_QBNET_EP_OUT_FILE];
	l->ep_in = l->gadget.eps[USB_QBNET_EP_IN_FILE];
	if (watch(l, l->ep0) || watch(l, l->event_fd) || watch(l, l->timer_fd))
		return -1;
	if (rc == GADGET_NO_UDC)
		return start_udc_wait(l, text);
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
		for (unsigned i = 0; i < l->rx_slots; i++)
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
			unsigned kind, index, part;
			untag(events[i].data, &kind, &index, &part);
			if (kind == IOCB_RX && index < l->rx_slots)
				l->rx[index].busy = false;
			else if (kind != IOCB_RX && index < USB_TX_SLOTS && l->tx[index].pending)
				l->tx[index].pending--;
		}
	}
}

static void free_link(struct link_usb *l)
{
	if (l->ring)
		munmap(l->ring, 2 * l->ring_size);
	free(l->rx);
	for (unsigned i = 0; i < USB_TX_SLOTS; i++) {
		free(l->tx[i].buf);
		free(l->tx[i].iocbs);
	}
	free(l->tx_list);
	free(l->tx_lens);
	free(l->test_buf);
	free(l);
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
	stop_udc_wait(l);
	gadget_destroy(&l->gadget);
	info("USB gadget removed");
	if (!drained)
		return;		/* buffers may still be in the kernel's hands */
	free_link(l);
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

/* size bytes of shared memory mapped twice in a row, so that data running
 * past the end continues at the start: a bundle read into consecutive ring
 * slots is contiguous even where it wraps. mremap with old size 0 duplicates
 * a shared mapping (mremap(2)); no file, no memfd. */
static uint8_t *mirror_map(size_t size)
{
	uint8_t *base = mmap(NULL, 2 * size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED)
		return NULL;
	if (mmap(base, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		    MAP_FAILED ||
	    mremap(base, 0, size, MREMAP_MAYMOVE | MREMAP_FIXED, base + size) == MAP_FAILED) {
		munmap(base, 2 * size);
		return NULL;
	}
	base[0] = 0x71;
	base[size - 1] = 0x62;
	if (base[size] != 0x71 || base[2 * size - 1] != 0x62) {
		munmap(base, 2 * size);
		errno = EINVAL;
		return NULL;
	}
	return base;
}

static size_t gcd(size_t a, size_t b)
{
	while (b) {
		size_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* The OUT ring: rx_depth reads posted plus the reads one bundle can keep,
 * rounded so that the ring is a whole number of pages. */
static bool alloc_ring(struct link_usb *l)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t depth = USB_RX_BYTES / l->request;
	size_t max_parts = (l->rx_buf_size + l->request - 1) / l->request + 1;

	if (depth < USB_RX_DEPTH_MIN)
		depth = USB_RX_DEPTH_MIN;
	if (depth > USB_RX_DEPTH_MAX)
		depth = USB_RX_DEPTH_MAX;
	size_t step = page / gcd(page, l->request);	/* slots per whole number of pages */
	size_t slots = (depth + max_parts + step - 1) / step * step;
	l->rx_depth = (unsigned)depth;
	l->rx_slots = (unsigned)slots;
	l->ring_size = slots * l->request;
	l->rx = calloc(slots, sizeof(*l->rx));
	l->ring = mirror_map(l->ring_size);
	if (!l->ring)
		err("cannot map the USB read ring (%zu bytes twice): %s", l->ring_size, strerror(errno));
	return l->rx && l->ring;
}

struct link *link_usb_new(const struct gadget_config *config, uint32_t rx_max_bundle,
			  size_t request_size, const struct link_callbacks *callbacks, void *ctx)
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
	l->udc_timer_fd = -1;
	l->gadget.ep0 = -1;
	for (unsigned i = 0; i <= GADGET_ENDPOINTS_MAX; i++)
		l->gadget.eps[i] = -1;
	l->mps = USB_DESC_FS_BULK_MPS;
	l->request = request_size;
	ep0_init(&l->ep0_state);
	/* Room for MAX_BUNDLE rounded up to any wMaxPacketSize. */
	l->rx_buf_size = (rx_max_bundle + USB_MPS_MAX - 1) / USB_MPS_MAX * USB_MPS_MAX;
	/* A bundle's requests, its ZLP, a leading ZLP, and one to end it if
	 * it is cut. */
	l->tx_parts = USB_XFER_TX_PARTS(PROTO_BUNDLE_ABS_MAX, request_size) + 1;
	bool ok = alloc_ring(l) && (l->tx_list = calloc(l->tx_parts, sizeof(*l->tx_list))) &&
		  (l->tx_lens = calloc(l->tx_parts, sizeof(*l->tx_lens)));
	for (unsigned i = 0; i < USB_TX_SLOTS; i++)
		ok = ok && (l->tx[i].buf = malloc(PROTO_BUNDLE_ABS_MAX)) &&
		     (l->tx[i].iocbs = calloc(l->tx_parts, sizeof(struct iocb)));
	if (!ok) {
		free_link(l);
		return NULL;
	}
	return &l->link;
}
