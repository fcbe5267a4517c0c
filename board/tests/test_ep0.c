/* Unit tests of the ep0 decisions: link state across BIND/ENABLE/DISABLE/
 * SUSPEND/RESUME/UNBIND (UNBIND without DISABLE included), and the vendor
 * requests with every field checked strictly. */
#include <endian.h>
#include <stdio.h>
#include <string.h>
#include <linux/usb/ch9.h>

#include "check.h"
#include "ep0.h"

CHECKS_DEFINE;

static struct ep0_action run(struct ep0_state *state, uint8_t type)
{
	struct usb_functionfs_event event = { .type = type };
	struct ep0_action action;

	ep0_handle(state, &event, &action);
	return action;
}

static struct ep0_action setup(uint8_t type, uint8_t request, uint16_t value, uint16_t index,
			       uint16_t length)
{
	struct ep0_state state;
	struct usb_functionfs_event event = { .type = FUNCTIONFS_SETUP };
	struct ep0_action action;

	ep0_init(&state);
	event.u.setup.bRequestType = type;
	event.u.setup.bRequest = request;
	event.u.setup.wValue = htole16(value);
	event.u.setup.wIndex = htole16(index);
	event.u.setup.wLength = htole16(length);
	ep0_handle(&state, &event, &action);
	CHECK(action.link == EP0_LINK_SAME, "a SETUP never changes the link");
	return action;
}

static void test_link_state(void)
{
	struct ep0_state state;

	ep0_init(&state);
	CHECK(run(&state, FUNCTIONFS_BIND).link == EP0_LINK_SAME && !ep0_link_up(&state), "bind");
	CHECK(run(&state, FUNCTIONFS_ENABLE).link == EP0_LINK_UP && ep0_link_up(&state), "enable");
	struct ep0_action a = run(&state, FUNCTIONFS_ENABLE);
	CHECK(a.link == EP0_LINK_RESTART && a.reason, "enable while up restarts");
	a = run(&state, FUNCTIONFS_SUSPEND);
	CHECK(a.link == EP0_LINK_DOWN && a.reason && !ep0_link_up(&state), "suspend");
	CHECK(run(&state, FUNCTIONFS_SUSPEND).link == EP0_LINK_SAME, "second suspend");
	CHECK(run(&state, FUNCTIONFS_RESUME).link == EP0_LINK_UP, "resume");
	CHECK(run(&state, FUNCTIONFS_DISABLE).link == EP0_LINK_DOWN, "disable");
	CHECK(run(&state, FUNCTIONFS_RESUME).link == EP0_LINK_SAME, "resume while disabled");
	CHECK(run(&state, FUNCTIONFS_DISABLE).link == EP0_LINK_SAME, "disable twice");
	CHECK(run(&state, FUNCTIONFS_ENABLE).link == EP0_LINK_UP, "enable again");
	a = run(&state, FUNCTIONFS_UNBIND);
	CHECK(a.link == EP0_LINK_DOWN && !state.bound && !state.enabled, "unbind without disable");
	CHECK(run(&state, FUNCTIONFS_RESUME).link == EP0_LINK_SAME, "resume while unbound");
	CHECK(run(&state, FUNCTIONFS_BIND).link == EP0_LINK_SAME, "rebind");
	CHECK(run(&state, FUNCTIONFS_ENABLE).link == EP0_LINK_UP, "enable after rebind");
	CHECK(run(&state, FUNCTIONFS_BIND).link == EP0_LINK_DOWN && !state.enabled,
	      "bind while up resets the state");
	CHECK(run(&state, 99).link == EP0_LINK_SAME, "unknown event ignored");
	ep0_init(&state);
	CHECK(run(&state, FUNCTIONFS_SUSPEND).link == EP0_LINK_SAME, "suspend before enable");
	CHECK(run(&state, FUNCTIONFS_ENABLE).link == EP0_LINK_UP, "enable clears suspend");
}

#define VENDOR_IN (USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_INTERFACE)
#define VENDOR_OUT (USB_DIR_OUT | USB_TYPE_VENDOR | USB_RECIP_INTERFACE)

static void test_requests(void)
{
	struct ep0_action a = setup(VENDOR_IN, EP0_REQ_GET_INFO, 0, 0, 256);

	CHECK(a.reply == EP0_REPLY_DATA && a.request == EP0_GET_INFO && a.reply_max == 256 &&
	      a.setup_in, "GET_INFO");
	a = setup(VENDOR_IN, EP0_REQ_GET_INFO, 0, 0, 1);
	CHECK(a.reply == EP0_REPLY_DATA && a.reply_max == 1, "GET_INFO wLength 1");
	a = setup(VENDOR_OUT, EP0_REQ_RESET_LINK, 0, 0, 0);
	CHECK(a.reply == EP0_REPLY_ACK && a.request == EP0_RESET_LINK && !a.setup_in, "RESET_LINK");
	a = setup(VENDOR_OUT, EP0_REQ_LINK_TEST, 2000, 0, 0);
	CHECK(a.reply == EP0_REPLY_ACK && a.request == EP0_LINK_TEST && a.value == 2000, "LINK_TEST");
	a = setup(VENDOR_OUT, EP0_REQ_LINK_TEST, 0, 0, 0);
	CHECK(a.reply == EP0_REPLY_ACK && a.value == 0, "LINK_TEST 0 stops");

	struct {
		uint8_t type, request;
		uint16_t index, length;
		const char *what;
	} stalls[] = {
		{ VENDOR_IN, EP0_REQ_GET_INFO, 0, 0, "GET_INFO wLength 0" },
		{ VENDOR_OUT, EP0_REQ_GET_INFO, 0, 0, "GET_INFO OUT" },
		{ VENDOR_IN, EP0_REQ_GET_INFO, 1, 64, "GET_INFO other interface" },
		{ USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_DEVICE, EP0_REQ_GET_INFO, 0, 64,
		  "GET_INFO to the device" },
		{ USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_ENDPOINT, EP0_REQ_GET_INFO, 0, 64,
		  "GET_INFO to an endpoint" },
		{ USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE, EP0_REQ_GET_INFO, 0, 64,
		  "class request" },
		{ USB_DIR_IN | USB_TYPE_STANDARD | USB_RECIP_INTERFACE, USB_REQ_GET_STATUS, 0, 2,
		  "standard request" },
		{ VENDOR_IN, EP0_REQ_RESET_LINK, 0, 0, "RESET_LINK IN" },
		{ VENDOR_OUT, EP0_REQ_RESET_LINK, 0, 4, "RESET_LINK with data" },
		{ VENDOR_OUT, EP0_REQ_LINK_TEST, 0, 2, "LINK_TEST with data" },
		{ VENDOR_IN, EP0_REQ_LINK_TEST, 0, 8, "LINK_TEST IN" },
		{ VENDOR_OUT, EP0_REQ_LINK_TEST, 0x100, 0, "LINK_TEST wIndex high byte" },
		{ VENDOR_OUT, 0x00, 0, 0, "request 0" },
		{ VENDOR_OUT, 0x04, 0, 0, "request 4" },
		{ VENDOR_IN, 0xcd, 0, 64, "MS OS vendor code (the kernel answers it)" },
	};
	for (size_t i = 0; i < sizeof(stalls) / sizeof(stalls[0]); i++) {
		a = setup(stalls[i].type, stalls[i].request, 0, stalls[i].index, stalls[i].length);
		CHECK(a.reply == EP0_REPLY_STALL && a.request == EP0_NONE &&
		      a.setup_in == !!(stalls[i].type & USB_DIR_IN), "stall: %s", stalls[i].what);
	}
}

/* Seeds for fuzz_ep0: typical event sequences, one file each. */
static int write_corpus(const char *dir)
{
	static const uint8_t types[][8] = {
		{ FUNCTIONFS_BIND, FUNCTIONFS_ENABLE, FUNCTIONFS_SETUP, FUNCTIONFS_SETUP,
		  FUNCTIONFS_SUSPEND, FUNCTIONFS_RESUME, FUNCTIONFS_DISABLE, FUNCTIONFS_UNBIND },
		{ FUNCTIONFS_BIND, FUNCTIONFS_ENABLE, FUNCTIONFS_SETUP, FUNCTIONFS_UNBIND,
		  FUNCTIONFS_BIND, FUNCTIONFS_ENABLE, FUNCTIONFS_ENABLE, FUNCTIONFS_SETUP },
	};
	static const uint8_t requests[] = { EP0_REQ_GET_INFO, EP0_REQ_RESET_LINK,
					    EP0_REQ_LINK_TEST };

	for (size_t seq = 0; seq < sizeof(types) / sizeof(types[0]); seq++) {
		struct usb_functionfs_event events[8];
		char path[512];

		memset(events, 0, sizeof(events));
		for (size_t i = 0; i < 8; i++) {
			uint8_t request = requests[(seq + i) % 3];
			events[i].type = types[seq][i];
			events[i]._pad[0] = 1;
			events[i].u.setup.bRequestType = request == EP0_REQ_GET_INFO ? VENDOR_IN : VENDOR_OUT;
			events[i].u.setup.bRequest = request;
			events[i].u.setup.wValue = htole16(request == EP0_REQ_LINK_TEST ? 1000 : 0);
			events[i].u.setup.wLength = htole16(request == EP0_REQ_GET_INFO ? 255 : 0);
		}
		snprintf(path, sizeof(path), "%s/seq%zu", dir, seq);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(events, sizeof(events), 1, f) != 1) {
			perror(path);
			return 1;
		}
		fclose(f);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	test_link_state();
	test_requests();
	return checks_report("test_ep0");
}
