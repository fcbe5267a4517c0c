/* FunctionFS ep0 decisions (doc/PROTOCOL.md section 6): what each event
 * (BIND ... RESUME, SETUP) means for the link state and how a control
 * request is answered. Pure: no I/O, so it is unit-tested and fuzzed. */
#ifndef QB_EP0_H
#define QB_EP0_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/usb/functionfs.h>

/* Vendor requests to the qbnet interface. */
#define EP0_REQ_GET_INFO 0x01
#define EP0_REQ_RESET_LINK 0x02
#define EP0_REQ_LINK_TEST 0x03
/* The qbnet interface number as FunctionFS reports it in wIndex (the
 * kernel maps the host's interface number to the function's own). */
#define EP0_INTERFACE 0

struct ep0_state {
	bool bound;		/* BIND seen, no UNBIND since */
	bool enabled;		/* the host selected our configuration */
	bool suspended;		/* the bus is suspended */
};

enum ep0_link {
	EP0_LINK_SAME,
	EP0_LINK_UP,		/* ENABLE or RESUME: the host can talk to us */
	EP0_LINK_DOWN,		/* DISABLE, UNBIND, SUSPEND (or BIND while up) */
	EP0_LINK_RESTART,	/* ENABLE while up: down, then up again */
};

enum ep0_reply {
	EP0_REPLY_NONE,		/* not a SETUP */
	EP0_REPLY_DATA,		/* IN data stage: write up to reply_max bytes */
	EP0_REPLY_ACK,		/* OUT, no data: complete the status stage */
	EP0_REPLY_STALL,	/* refuse the request */
};

enum ep0_request {
	EP0_NONE,
	EP0_GET_INFO,
	EP0_RESET_LINK,
	EP0_LINK_TEST,
};

struct ep0_action {
	enum ep0_link link;
	const char *reason;	/* DOWN/RESTART: for the log */
	enum ep0_reply reply;
	bool setup_in;		/* the SETUP's direction (a stall answers with the
				 * opposite direction's syscall) */
	uint16_t reply_max;	/* DATA: wLength */
	enum ep0_request request;
	uint16_t value;		/* LINK_TEST: milliseconds (0 stops) */
};

void ep0_init(struct ep0_state *state);
/* True when bulk transfers can flow: bound, enabled, not suspended. */
bool ep0_link_up(const struct ep0_state *state);
/* Updates the state for one event and says what to do. */
void ep0_handle(struct ep0_state *state, const struct usb_functionfs_event *event,
		struct ep0_action *action);
/* Decides the answer to a SETUP on its own (part of ep0_handle). */
void ep0_setup(const struct usb_ctrlrequest *setup, struct ep0_action *action);
const char *ep0_event_name(uint8_t type);

#endif
