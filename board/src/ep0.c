/* The ep0 event state machine and the vendor request checks: strict on
 * type, recipient, direction, wIndex and wLength; anything else stalls.
 * Event sequences may be odd (the kernel merges and drops events). */
#include <endian.h>
#include <string.h>
#include <linux/usb/ch9.h>

#include "ep0.h"

void ep0_init(struct ep0_state *state)
{
	memset(state, 0, sizeof(*state));
}

bool ep0_link_up(const struct ep0_state *state)
{
	return state->bound && state->enabled && !state->suspended;
}

const char *ep0_event_name(uint8_t type)
{
	switch (type) {
	case FUNCTIONFS_BIND:
		return "BIND";
	case FUNCTIONFS_UNBIND:
		return "UNBIND";
	case FUNCTIONFS_ENABLE:
		return "ENABLE";
	case FUNCTIONFS_DISABLE:
		return "DISABLE";
	case FUNCTIONFS_SETUP:
		return "SETUP";
	case FUNCTIONFS_SUSPEND:
		return "SUSPEND";
	case FUNCTIONFS_RESUME:
		return "RESUME";
	}
	return "unknown";
}

void ep0_setup(const struct usb_ctrlrequest *setup, struct ep0_action *action)
{
	uint8_t type = setup->bRequestType;
	bool in = type & USB_DIR_IN;
	uint16_t value = le16toh(setup->wValue);
	uint16_t index = le16toh(setup->wIndex);
	uint16_t length = le16toh(setup->wLength);

	action->setup_in = in;
	action->reply = EP0_REPLY_STALL;
	action->request = EP0_NONE;
	if ((type & USB_TYPE_MASK) != USB_TYPE_VENDOR ||
	    (type & USB_RECIP_MASK) != USB_RECIP_INTERFACE || index != EP0_INTERFACE)
		return;
	switch (setup->bRequest) {
	case EP0_REQ_GET_INFO:
		if (!in || !length)
			return;
		action->reply = EP0_REPLY_DATA;
		action->reply_max = length;
		action->request = EP0_GET_INFO;
		return;
	case EP0_REQ_RESET_LINK:
		if (in || length)
			return;
		action->reply = EP0_REPLY_ACK;
		action->request = EP0_RESET_LINK;
		return;
	case EP0_REQ_LINK_TEST:
		if (in || length)
			return;
		action->reply = EP0_REPLY_ACK;
		action->request = EP0_LINK_TEST;
		action->value = value;
		return;
	}
}

void ep0_handle(struct ep0_state *state, const struct usb_functionfs_event *event,
		struct ep0_action *action)
{
	bool was_up = ep0_link_up(state);
	const char *reason = NULL;

	memset(action, 0, sizeof(*action));
	switch (event->type) {
	case FUNCTIONFS_BIND:
		/* A fresh start; state left from before an UNBIND we did not
		 * see must not survive it. */
		ep0_init(state);
		state->bound = true;
		reason = "gadget bound to the UDC again";
		break;
	case FUNCTIONFS_UNBIND:
		/* May come without DISABLE. */
		ep0_init(state);
		reason = "gadget unbound from the UDC";
		break;
	case FUNCTIONFS_ENABLE:
		state->bound = true;
		state->enabled = true;
		state->suspended = false;
		if (was_up) {
			action->link = EP0_LINK_RESTART;
			action->reason = "the host selected the configuration again";
			return;
		}
		break;
	case FUNCTIONFS_DISABLE:
		state->enabled = false;
		state->suspended = false;
		reason = "the host deselected the configuration (reset or unplug)";
		break;
	case FUNCTIONFS_SUSPEND:
		state->suspended = true;
		reason = "USB suspend";
		break;
	case FUNCTIONFS_RESUME:
		state->suspended = false;
		break;
	case FUNCTIONFS_SETUP:
		ep0_setup(&event->u.setup, action);
		return;
	default:
		return;
	}
	bool now_up = ep0_link_up(state);
	if (was_up && !now_up) {
		action->link = EP0_LINK_DOWN;
		action->reason = reason;
	} else if (!was_up && now_up) {
		action->link = EP0_LINK_UP;
	}
}
