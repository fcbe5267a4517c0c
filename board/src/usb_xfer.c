/* Bundles in USB requests of bounded size: the IN split and the OUT
 * reassembly of usb_xfer.h. Pure code, fuzzed by fuzz_usb_rx. */
#include "usb_xfer.h"

bool usb_xfer_request_size_valid(uint64_t value)
{
	return value >= USB_XFER_REQUEST_MIN && value <= USB_XFER_REQUEST_MAX &&
	       value % USB_XFER_REQUEST_ALIGN == 0;
}

unsigned usb_xfer_tx_split(size_t len, size_t request, unsigned mps, size_t *lens, unsigned max)
{
	unsigned count = 0;

	if (!len || !request || !mps)
		return 0;
	for (size_t offset = 0; offset < len; offset += request) {
		if (count == max)
			return 0;
		lens[count++] = len - offset < request ? len - offset : request;
	}
	if (len % mps == 0) {
		if (count == max)
			return 0;
		lens[count++] = 0;
	}
	return count;
}

void usb_rx_asm_init(struct usb_rx_asm *a, size_t request, size_t max)
{
	a->request = request;
	a->max = max;
	a->len = 0;
	a->parts = 0;
	a->discarding = false;
}

unsigned usb_rx_asm_max_parts(const struct usb_rx_asm *a)
{
	return (unsigned)(a->max / a->request) + 1;
}

/* Ends the bundle in progress: the caller frees every read it kept. */
static struct usb_rx_result finish(struct usb_rx_asm *a, enum usb_rx_step step)
{
	struct usb_rx_result r = { .step = step, .len = a->len, .release = a->parts };

	a->len = 0;
	a->parts = 0;
	a->discarding = false;
	return r;
}

struct usb_rx_result usb_rx_asm_feed(struct usb_rx_asm *a, size_t got)
{
	bool full = got == a->request;

	a->parts++;
	if (got > a->request)
		return finish(a, USB_RX_INVALID);
	if (a->discarding) {
		struct usb_rx_result r = { .step = USB_RX_DISCARD, .release = a->parts };

		a->parts = 0;
		if (!full)
			a->discarding = false;	/* the dropped bundle ended here */
		return r;
	}
	if (got > a->max - a->len) {
		struct usb_rx_result r = finish(a, USB_RX_OVERSIZE);

		a->discarding = full;
		return r;
	}
	a->len += got;
	if (full)
		return (struct usb_rx_result){ .step = USB_RX_MORE };
	if (!a->len)
		return finish(a, USB_RX_ZLP);
	return finish(a, USB_RX_BUNDLE);
}

unsigned usb_rx_asm_abort(struct usb_rx_asm *a, bool *lost)
{
	*lost = a->len > 0;	/* a discarded bundle was counted already */
	return finish(a, USB_RX_MORE).release;
}
