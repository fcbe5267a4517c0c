/* Bundles in USB requests of bounded size (doc/DESIGN.md, "USB request
 * sizes"): how an IN bundle is cut into requests, and how completed OUT
 * requests are put back together into bundles. Pure: no I/O, no allocation. */
#ifndef QB_USB_XFER_H
#define QB_USB_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The request size cap (--usb-request-size): each FunctionFS request is one
 * kmalloc in the kernel unless the UDC does scatter-gather. 32 KiB is an
 * order-3 allocation, the largest order the page allocator still reclaims
 * and compacts for (PAGE_ALLOC_COSTLY_ORDER); 16 KiB, adbd's size, lost
 * more than 10% in the VM (doc/DESIGN.md, "USB request sizes"). A multiple
 * of every bulk wMaxPacketSize (64, 512, 1024), so only a bundle's last
 * request can be short. */
#define USB_XFER_REQUEST_DEFAULT 32768u
#define USB_XFER_REQUEST_MIN 4096u
#define USB_XFER_REQUEST_MAX 1048576u
#define USB_XFER_REQUEST_ALIGN 1024u

/* The most requests one IN bundle of len bytes takes: its data requests, a
 * ZLP, and a ZLP before it that ends a bundle cut short earlier. */
#define USB_XFER_TX_PARTS(len, request) (((len) + (request) - 1) / (request) + 2)

/* Whether value is an acceptable --usb-request-size. */
bool usb_xfer_request_size_valid(uint64_t value);

/* Cuts an IN bundle of len bytes (> 0) into requests of at most request
 * bytes (a multiple of mps): writes each request's length into lens, a 0
 * for the zero-length packet that follows when len is a multiple of mps
 * (the ZLP rule is the whole bundle's: the host's read ends at a short
 * packet), and returns the count; 0 when max is too small. */
unsigned usb_xfer_tx_split(size_t len, size_t request, unsigned mps, size_t *lens, unsigned max);

/* OUT reassembly. Reads of `request` bytes each are posted in order; the
 * UDC fills them in order and ends a read early at a short packet or a
 * ZLP. So a full read means the bundle goes on in the next one, a short
 * one ends it, and a bundle that ends exactly on a read boundary is ended
 * by the ZLP its sender must add (its length is then a multiple of the
 * packet size), which arrives as an empty read. */
struct usb_rx_asm {
	size_t request;		/* the size of each posted read */
	size_t max;		/* the longest bundle accepted */
	size_t len;		/* bytes of the bundle being assembled */
	unsigned parts;		/* reads it spans so far */
	bool discarding;	/* an oversized bundle: skip to its end */
};

enum usb_rx_step {
	USB_RX_MORE,		/* a full read: the bundle goes on; keep it */
	USB_RX_BUNDLE,		/* a bundle of len bytes, starting at the oldest read kept */
	USB_RX_ZLP,		/* an empty read with no bundle pending: ignore it */
	USB_RX_OVERSIZE,	/* a bundle longer than max: dropped (counted once) */
	USB_RX_DISCARD,		/* a further read of a dropped bundle */
	USB_RX_INVALID,		/* more bytes than the read asked for: dropped */
};

struct usb_rx_result {
	enum usb_rx_step step;
	size_t len;		/* USB_RX_BUNDLE: its length */
	unsigned release;	/* the oldest reads kept (this one included) that are free again */
};

/* request: a multiple of the packet size; max: the longest bundle. */
void usb_rx_asm_init(struct usb_rx_asm *a, size_t request, size_t max);
/* One completed read of got bytes, in the order the reads were posted. */
struct usb_rx_result usb_rx_asm_feed(struct usb_rx_asm *a, size_t got);
/* A read failed, or the link went down: forgets the bundle in progress.
 * Returns how many kept reads are free again; *lost says whether a bundle
 * was cut (to count it). */
unsigned usb_rx_asm_abort(struct usb_rx_asm *a, bool *lost);
/* The most reads one bundle can span: the reads a bundle of max bytes
 * fills, plus its ZLP. */
unsigned usb_rx_asm_max_parts(const struct usb_rx_asm *a);

#endif
