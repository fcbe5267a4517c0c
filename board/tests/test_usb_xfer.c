/* Unit tests of the USB request split and reassembly (usb_xfer.c) against a
 * model of the bus: packets of wMaxPacketSize, a read that ends at a short
 * packet or when full, a ZLP after a transfer that fills its last packet.
 * Bundles of every edge length go through IN and OUT and must arrive whole. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "usb_xfer.h"

CHECKS_DEFINE;

#define MAX_BUNDLE 262144u
#define STREAM_MAX (8u * 1048576u)

/* ---- the bus: a stream of packets ---- */

struct bus {
	size_t packet_len[STREAM_MAX / 64 + 4096];
	size_t packet_off[STREAM_MAX / 64 + 4096];
	unsigned count;
	unsigned next;
};

static struct bus bus;
static uint8_t wire[STREAM_MAX];	/* the bytes of all packets, in order */
static size_t wire_len;

static void bus_reset(void)
{
	bus.count = 0;
	bus.next = 0;
	wire_len = 0;
}

/* One transfer as the UDC (or the host controller) sends it: full packets,
 * then the short rest; a zero-length transfer is one ZLP. */
static void bus_send(const uint8_t *data, size_t len, unsigned mps)
{
	size_t offset = 0;

	do {
		size_t n = len - offset < mps ? len - offset : mps;
		bus.packet_len[bus.count] = n;
		bus.packet_off[bus.count++] = wire_len;
		if (n)
			memcpy(wire + wire_len, data + offset, n);
		wire_len += n;
		offset += n;
	} while (offset < len);
}

/* The receiver's read of up to cap bytes: ends when full or at a short
 * packet; returns the bytes read (data copied to out), or -1 when the bus
 * has no packet left. */
static long bus_read(uint8_t *out, size_t cap, unsigned mps)
{
	size_t got = 0;

	if (bus.next == bus.count)
		return -1;
	while (bus.next < bus.count && got < cap) {
		size_t n = bus.packet_len[bus.next];
		if (got + n > cap)
			return -2;	/* babble: the model never lets this happen */
		if (n)
			memcpy(out + got, wire + bus.packet_off[bus.next], n);
		got += n;
		bus.next++;
		if (n < mps)
			break;
	}
	return (long)got;
}

/* ---- bundles to send ---- */

static uint8_t bundle_data[MAX_BUNDLE + 4096];

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

static size_t edge_lengths(size_t *out, size_t request, unsigned mps, size_t max)
{
	size_t candidates[] = {
		1, 16, mps - 1, mps, mps + 1, 2 * mps, request - mps, request - 1, request,
		request + 1, request + mps, 2 * request - 1, 2 * request, 2 * request + 1,
		3 * request + 100, max - mps, max - 1, max,
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (candidates[i] >= 1 && candidates[i] <= max)
			out[n++] = candidates[i];
	srand((unsigned)(request + mps));
	for (int i = 0; i < 40; i++)
		out[n++] = 1 + (size_t)rand() % max;
	return n;
}

/* ---- IN: the board splits, the host reads whole transfers ---- */

static void test_tx_split_shape(void)
{
	size_t lens[USB_XFER_TX_PARTS(1048576u, 4096u)];

	unsigned n = usb_xfer_tx_split(40000, 16384, 512, lens, 8);
	CHECK(n == 3 && lens[0] == 16384 && lens[1] == 16384 && lens[2] == 40000 - 32768,
	      "40000 in 16384s: %u parts", n);
	n = usb_xfer_tx_split(32768, 16384, 512, lens, 8);
	CHECK(n == 3 && lens[0] == 16384 && lens[1] == 16384 && lens[2] == 0,
	      "32768: two full requests and a ZLP (%u)", n);
	n = usb_xfer_tx_split(1024, 16384, 512, lens, 8);
	CHECK(n == 2 && lens[0] == 1024 && lens[1] == 0, "1024 at mps 512: one request and a ZLP");
	n = usb_xfer_tx_split(1000, 16384, 512, lens, 8);
	CHECK(n == 1 && lens[0] == 1000, "1000: one short request, no ZLP");
	n = usb_xfer_tx_split(16384, 16384, 512, lens, 1);
	CHECK(n == 0, "no room for the ZLP: refused (%u)", n);
	CHECK(usb_xfer_tx_split(0, 16384, 512, lens, 8) == 0, "an empty bundle is refused");
	CHECK(usb_xfer_tx_split(1048576, 4096, 1024, lens, USB_XFER_TX_PARTS(1048576u, 4096u)) == 257,
	      "1 MiB in 4 KiB requests: 256 and a ZLP, within USB_XFER_TX_PARTS");
}

static void check_in(size_t request, unsigned mps)
{
	static uint8_t got[MAX_BUNDLE + 4096];
	static size_t lens[USB_XFER_TX_PARTS(MAX_BUNDLE, 4096)];
	size_t lengths[64];
	size_t count = edge_lengths(lengths, request, mps, MAX_BUNDLE);
	size_t host_read = MAX_BUNDLE + mps;	/* the host's read: MAX_BUNDLE rounded up */
	unsigned bad = 0;

	bus_reset();
	for (size_t i = 0; i < count; i++) {
		fill(bundle_data, lengths[i], (unsigned)i);
		unsigned n = usb_xfer_tx_split(lengths[i], request, mps, lens,
					       sizeof(lens) / sizeof(lens[0]));
		size_t offset = 0;
		for (unsigned p = 0; p < n; p++) {
			if (p + 1 < n && lens[p] % mps)
				bad++;	/* only the last request may end in a short packet */
			bus_send(bundle_data + offset, lens[p], mps);
			offset += lens[p];
		}
	}
	CHECK(!bad, "request %zu mps %u: %u inner requests not a multiple of mps", request, mps, bad);
	unsigned whole = 0;
	for (size_t i = 0; i < count; i++) {
		long n = bus_read(got, host_read, mps);
		fill(bundle_data, lengths[i], (unsigned)i);
		if (n == (long)lengths[i] && !memcmp(got, bundle_data, lengths[i]))
			whole++;
		else
			CHECK(false, "request %zu mps %u: bundle %zu of %zu bytes read as %ld", request,
			      mps, i, lengths[i], n);
	}
	CHECK(whole == count, "request %zu mps %u: %u of %zu IN bundles arrived whole", request, mps,
	      whole, count);
	CHECK(bus_read(got, host_read, mps) == -1, "nothing left on the bus");
}

/* ---- OUT: the host sends whole transfers, the board reassembles ---- */

/* The board's posted reads, as link_usb keeps them: consecutive buffers of
 * `request` bytes, so a bundle over several reads is contiguous. */
static uint8_t reads_mem[3 * STREAM_MAX];

struct delivered {
	size_t len;
	size_t offset;	/* in reads_mem */
};

/* Runs every queued packet through posted reads and the reassembler. */
static unsigned receive(size_t request, unsigned mps, size_t max, struct delivered *out,
			unsigned out_max, unsigned *oversize, unsigned *zlps)
{
	struct usb_rx_asm a;
	size_t kept_from = 0, next_read = 0;
	unsigned n = 0, kept = 0;

	usb_rx_asm_init(&a, request, max);
	*oversize = *zlps = 0;
	for (;;) {
		if (next_read + request > sizeof(reads_mem)) {
			CHECK(false, "the test's read memory is too small");
			break;
		}
		long got = bus_read(reads_mem + next_read, request, mps);
		if (got < 0)
			break;
		next_read += request;
		struct usb_rx_result r = usb_rx_asm_feed(&a, (size_t)got);
		kept++;
		if (r.step == USB_RX_BUNDLE && n < out_max)
			out[n++] = (struct delivered){ r.len, kept_from };
		if (r.step == USB_RX_OVERSIZE)
			(*oversize)++;
		if (r.step == USB_RX_ZLP)
			(*zlps)++;
		if (r.release > kept)
			CHECK(false, "released %u reads, only %u kept", r.release, kept);
		kept -= r.release;
		kept_from += r.release * request;
		if (r.step == USB_RX_MORE && kept > usb_rx_asm_max_parts(&a))
			CHECK(false, "kept %u reads, more than max_parts %u", kept,
			      usb_rx_asm_max_parts(&a));
	}
	return n;
}

static void send_out(const size_t *lengths, size_t count, unsigned mps)
{
	bus_reset();
	for (size_t i = 0; i < count; i++) {
		fill(bundle_data, lengths[i], (unsigned)i);
		bus_send(bundle_data, lengths[i], mps);
		if (lengths[i] % mps == 0)
			bus_send(NULL, 0, mps);	/* the host's ZLP */
	}
}

static void check_out(size_t request, unsigned mps)
{
	static struct delivered got[128];
	size_t lengths[64];
	size_t count = edge_lengths(lengths, request, mps, MAX_BUNDLE);
	unsigned oversize, zlps, whole = 0;

	send_out(lengths, count, mps);
	unsigned n = receive(request, mps, MAX_BUNDLE, got, 128, &oversize, &zlps);
	CHECK(n == count && !oversize && !zlps, "request %zu mps %u: %u of %zu bundles, %u oversize, %u lone ZLPs",
	      request, mps, n, count, oversize, zlps);
	for (unsigned i = 0; i < n && i < count; i++) {
		fill(bundle_data, lengths[i], i);
		if (got[i].len == lengths[i] && !memcmp(reads_mem + got[i].offset, bundle_data, lengths[i]))
			whole++;
		else
			CHECK(false, "request %zu mps %u: bundle %u of %zu bytes came as %zu", request, mps,
			      i, lengths[i], got[i].len);
	}
	CHECK(whole == count, "request %zu mps %u: %u of %zu OUT bundles whole", request, mps, whole,
	      count);
}

/* Too long: dropped once, whether it ends short or with a ZLP; the next
 * bundle arrives. */
static void test_oversize(void)
{
	static struct delivered got[8];
	const size_t request = 16384, max = 65536;
	const unsigned mps = 512;
	size_t lengths[] = { 1000, max + 1, 2000, max + 16384, 16384, 4 * 16384 + 512, max };
	unsigned oversize, zlps;

	send_out(lengths, 7, mps);
	unsigned n = receive(request, mps, max, got, 8, &oversize, &zlps);
	CHECK(n == 4 && oversize == 3, "three oversized bundles dropped, four kept (%u, %u)", n, oversize);
	CHECK(n == 4 && got[0].len == 1000 && got[1].len == 2000 && got[2].len == 16384 &&
	      got[3].len == max, "the bundles around them arrive (%zu %zu %zu %zu)", got[0].len,
	      got[1].len, got[2].len, got[3].len);
	CHECK(!zlps, "no lone ZLP reported");
}

static void test_steps(void)
{
	struct usb_rx_asm a;
	struct usb_rx_result r;
	bool lost;

	usb_rx_asm_init(&a, 16384, 65536);
	CHECK(usb_rx_asm_max_parts(&a) == 5, "64 KiB in 16 KiB reads: 4 and a ZLP");
	r = usb_rx_asm_feed(&a, 0);
	CHECK(r.step == USB_RX_ZLP && r.release == 1, "a lone ZLP is ignored and freed");
	r = usb_rx_asm_feed(&a, 16384);
	CHECK(r.step == USB_RX_MORE && r.release == 0, "a full read is kept");
	r = usb_rx_asm_feed(&a, 16384);
	r = usb_rx_asm_feed(&a, 0);
	CHECK(r.step == USB_RX_BUNDLE && r.len == 32768 && r.release == 3,
	      "two full reads and a ZLP: one 32768-byte bundle over 3 reads (%zu, %u)", r.len,
	      r.release);
	r = usb_rx_asm_feed(&a, 16384);
	CHECK(usb_rx_asm_abort(&a, &lost) == 1 && lost, "an abort frees the kept read, counts a loss");
	CHECK(usb_rx_asm_abort(&a, &lost) == 0 && !lost, "nothing pending: nothing lost");
	r = usb_rx_asm_feed(&a, 16385);
	CHECK(r.step == USB_RX_INVALID && r.release == 1, "more than the read asked for: dropped");
	r = usb_rx_asm_feed(&a, 100);
	CHECK(r.step == USB_RX_BUNDLE && r.len == 100 && r.release == 1, "and the next bundle is fine");
	CHECK(usb_xfer_request_size_valid(16384) && usb_xfer_request_size_valid(4096) &&
	      usb_xfer_request_size_valid(1048576) && !usb_xfer_request_size_valid(4095) &&
	      !usb_xfer_request_size_valid(5000) && !usb_xfer_request_size_valid(1048576 + 1024) &&
	      !usb_xfer_request_size_valid(0), "request size bounds");
}

/* Seeds for fuzz_usb_xfer: byte 0 picks the read size, byte 1 the longest
 * bundle, then one byte per read (< 160 full, < 250 short, else too long). */
static int write_corpus(const char *dir)
{
	static const uint8_t seeds[][12] = {
		{ 3, 40, 10, 10, 200, 0, 10, 10, 10, 0, 210, 10 },	/* bundles, one ending on a ZLP */
		{ 0, 2, 10, 10, 10, 10, 10, 10, 220, 180, 0, 255 },	/* oversized, then short ones */
		{ 7, 255, 10, 10, 10, 10, 10, 10, 10, 10, 10, 160 },	/* a long bundle */
	};

	if (mkdir(dir, 0755) && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/seed%zu", dir, i);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(seeds[i], sizeof(seeds[i]), 1, f) != 1 || fclose(f)) {
			perror(path);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	static const size_t requests[] = { 4096, 16384, 65536 };
	static const unsigned mpss[] = { 64, 512, 1024 };

	test_tx_split_shape();
	test_steps();
	test_oversize();
	for (unsigned r = 0; r < 3; r++) {
		for (unsigned m = 0; m < 3; m++) {
			check_in(requests[r], mpss[m]);
			check_out(requests[r], mpss[m]);
		}
	}
	return checks_report("test_usb_xfer");
}
