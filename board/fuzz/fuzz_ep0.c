/* libFuzzer target: arbitrary usb_functionfs_event sequences through the
 * ep0 state machine. Link changes must alternate up/down consistently and
 * every SETUP must get exactly one well-formed answer. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <linux/usb/ch9.h>

#include "ep0.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ep0_state state;
	bool up = false;	/* what the transport would believe */

	ep0_init(&state);
	for (; size >= sizeof(struct usb_functionfs_event);
	     data += sizeof(struct usb_functionfs_event), size -= sizeof(struct usb_functionfs_event)) {
		struct usb_functionfs_event event;
		struct ep0_action action;

		memcpy(&event, data, sizeof(event));
		/* Mostly known types, sometimes anything. */
		if (event._pad[0] & 1)
			event.type %= FUNCTIONFS_RESUME + 1;
		ep0_handle(&state, &event, &action);

		switch (action.link) {
		case EP0_LINK_SAME:
			break;
		case EP0_LINK_UP:
			if (up)
				abort();
			up = true;
			break;
		case EP0_LINK_DOWN:
			if (!up || !action.reason)
				abort();
			up = false;
			break;
		case EP0_LINK_RESTART:
			if (!up || !action.reason || event.type != FUNCTIONFS_ENABLE)
				abort();
			break;
		}
		if (up != ep0_link_up(&state))
			abort();

		const struct usb_ctrlrequest *setup = &event.u.setup;
		bool in = setup->bRequestType & USB_DIR_IN;
		if (event.type != FUNCTIONFS_SETUP) {
			if (action.reply != EP0_REPLY_NONE || action.request != EP0_NONE)
				abort();
			continue;
		}
		if (action.link != EP0_LINK_SAME || action.setup_in != in)
			abort();
		switch (action.reply) {
		case EP0_REPLY_NONE:
			abort();
		case EP0_REPLY_DATA:
			if (!in || action.request != EP0_GET_INFO || !action.reply_max ||
			    action.reply_max != le16toh(setup->wLength))
				abort();
			break;
		case EP0_REPLY_ACK:
			if (in || setup->wLength ||
			    (action.request != EP0_RESET_LINK && action.request != EP0_LINK_TEST))
				abort();
			break;
		case EP0_REPLY_STALL:
			if (action.request != EP0_NONE)
				abort();
			break;
		}
		if (action.request != EP0_NONE &&
		    ((setup->bRequestType & (USB_TYPE_MASK | USB_RECIP_MASK)) !=
			     (USB_TYPE_VENDOR | USB_RECIP_INTERFACE) ||
		     setup->wIndex != htole16(EP0_INTERFACE) || setup->bRequest != action.request))
			abort();
	}
	return 0;
}
