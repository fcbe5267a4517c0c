/* libFuzzer target: the USB request reassembler fed read lengths from the
 * input (as a buggy or hostile host could make them), checked against its
 * contract: a bundle is exactly the reads released with it (full ones, then
 * one short), never longer than max, never more reads kept than max_parts,
 * and every read is released once. The first bytes also drive the IN split. */
#include <stdint.h>
#include <stdlib.h>

#include "bytes.h"
#include "usb_xfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARTS_LIMIT 300u

static void check_split(const uint8_t *data, size_t size)
{
	static size_t lens[USB_XFER_TX_PARTS(1048576u, 4096u)];
	static const unsigned mpss[] = { 64, 512, 1024 };

	if (size < 4)
		return;
	size_t len = 1 + (get_le32(data) & 0xfffff);
	size_t request = USB_XFER_REQUEST_MIN + (size_t)(data[0] % 16) * USB_XFER_REQUEST_ALIGN * 4;
	unsigned mps = mpss[data[1] % 3];
	unsigned n = usb_xfer_tx_split(len, request, mps, lens, sizeof(lens) / sizeof(lens[0]));
	size_t sum = 0;

	if (!n)
		abort();
	for (unsigned i = 0; i < n; i++) {
		if (lens[i] > request || (i + 1 < n && lens[i] % mps))
			abort();
		sum += lens[i];
	}
	if (sum != len || (lens[n - 1] == 0) != (len % mps == 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t kept[MAX_PARTS_LIMIT];
	struct usb_rx_asm a;
	unsigned count = 0;
	bool lost;

	check_split(data, size);
	if (size < 2)
		return 0;
	/* A small request and max, so that short inputs reach every path. */
	size_t request = 64u * (1 + data[0] % 8);
	size_t max = 1 + (size_t)data[1] * 16;
	usb_rx_asm_init(&a, request, max);
	unsigned max_parts = usb_rx_asm_max_parts(&a);
	if (max_parts > MAX_PARTS_LIMIT)
		abort();
	for (size_t i = 2; i < size; i++) {
		/* Mostly full reads, sometimes short, empty or too long. */
		size_t got = data[i] < 160 ? request : data[i] < 250 ? (size_t)data[i] % request :
			     request + data[i] % 3;
		struct usb_rx_result r = usb_rx_asm_feed(&a, got);

		kept[count++] = got;
		if (r.release > count)
			abort();
		if (r.step == USB_RX_MORE && (r.release || count > max_parts || got != request))
			abort();
		if (r.step == USB_RX_BUNDLE) {
			size_t sum = 0;
			for (unsigned k = 0; k < r.release; k++) {
				if (k + 1 < r.release && kept[k] != request)
					abort();
				sum += kept[k];
			}
			if (sum != r.len || !r.len || r.len > max || kept[r.release - 1] >= request)
				abort();
		}
		if ((r.step == USB_RX_ZLP || r.step == USB_RX_DISCARD) && r.release != 1)
			abort();
		if (r.step != USB_RX_MORE && count != r.release && r.step != USB_RX_DISCARD)
			abort();
		/* The released reads are the oldest. */
		for (unsigned k = r.release; k < count; k++)
			kept[k - r.release] = kept[k];
		count -= r.release;
	}
	if (usb_rx_asm_abort(&a, &lost) != count)
		abort();
	return 0;
}
