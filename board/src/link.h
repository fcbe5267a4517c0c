/* The link transport interface: how bundles reach the host. A transport
 * (Unix socket, or the USB gadget) owns its fds in the daemon's epoll set
 * and reports to the session side through callbacks. */
#ifndef QB_LINK_H
#define QB_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gadget.h"
#include "proto.h"

enum link_send_result {
	LINK_SEND_QUEUED,	/* taken whole; the caller's buffer is free again */
	LINK_SEND_BUSY,		/* no room now: wait for the writable callback */
	LINK_SEND_DOWN,		/* no connection: the bundle is not sent */
};

/* Called by the transport, always from within its own handle_event (or
 * start); never from within send(). */
struct link_callbacks {
	/* The host is reachable: the session may send (HELLO). */
	void (*up)(void *ctx);
	/* The host went away (reason for the log); the transport recovers by
	 * itself (reconnect, or wait for the host). */
	void (*down)(void *ctx, const char *reason);
	/* One bundle exactly as delivered (not validated beyond what framing
	 * needed); data is valid during the call only. */
	void (*bundle_received)(void *ctx, const uint8_t *data, size_t len);
	/* A bundle was dropped by the transport itself (stream header). */
	void (*bundle_dropped)(void *ctx, enum proto_bundle_status reason);
	/* Queue space is available again after LINK_SEND_BUSY/!can_send. */
	void (*writable)(void *ctx);
	/* What the USB transport's vendor requests (PROTOCOL.md section 6)
	 * need from the session. GET_INFO: writes the board's HELLO control
	 * payload into buf, returns its length. */
	size_t (*hello_payload)(void *ctx, uint8_t *buf, size_t cap);
	/* RESET_LINK: restart the session as for a host HELLO. */
	void (*restart)(void *ctx);
	/* LINK_TEST: the largest bundle the host accepts now. */
	uint32_t (*tx_limit)(void *ctx);
};

struct link;

struct link_ops {
	const char *name;
	/* Registers the transport's fds with epoll_fd (owner EPOLL_OWNER_LINK)
	 * and starts connecting; 0 or -1 (logged). */
	int (*start)(struct link *link, int epoll_fd);
	/* An epoll event for one of the transport's fds. */
	void (*handle_event)(struct link *link, int fd, uint32_t events);
	/* Queues one complete bundle, copying what it cannot send at once. */
	enum link_send_result (*send)(struct link *link, const uint8_t *bundle, size_t len);
	/* True when a bundle of up to PROTO_BUNDLE_ABS_MAX would be queued. */
	bool (*can_send)(const struct link *link);
	/* Drops the connection (peer silent, stream out of step); the down
	 * callback follows from handle_event, not from within this call. On
	 * USB the link stays up: the transport drops what it has queued for
	 * the host and the session waits for a host HELLO. */
	void (*reset)(struct link *link, const char *reason);
	/* Closes everything and frees the link; no callbacks after this. */
	void (*stop)(struct link *link);
};

struct link {
	const struct link_ops *ops;
	const struct link_callbacks *callbacks;
	void *ctx;
	uint32_t rx_max_bundle;	/* the MAX_BUNDLE we advertise */
	/* The transport cannot recover (the gadget's ep0 failed): main tears
	 * everything down and exits 1, so that a supervisor starts it afresh. */
	bool failed;
};

/* The socket transport: connects to the host driver listening on path. */
struct link *link_unix_new(const char *path, uint32_t rx_max_bundle,
			   const struct link_callbacks *callbacks, void *ctx);
/* The USB transport: creates the gadget (at start) from config, which must
 * outlive the link; moves bundles in requests of at most request_size bytes
 * (usb_xfer.h). */
struct link *link_usb_new(const struct gadget_config *config, uint32_t rx_max_bundle,
			  size_t request_size, const struct link_callbacks *callbacks, void *ctx);

#endif
