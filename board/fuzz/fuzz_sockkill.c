/* libFuzzer target: the sock_diag reply parsers of src/sockkill.c (the first
 * byte is the request's sequence number, the rest one datagram). Whatever a
 * reply says, a socket handed out is one to end (sockkill_matches), a poke
 * built from it is a whole packet or nothing, and a failure carries an errno. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "sockkill.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sockkill_addrs addrs;

static void found(void *ctx, const struct inet_diag_msg *sock)
{
	uint8_t packet[SOCKKILL_POKE_MAX];

	(void)ctx;
	if (!sockkill_matches(sock, &addrs))
		abort();
	size_t len = sockkill_poke(packet, sizeof(packet), sock, 12345);
	if (len != 0 && len != 40 && len != 60)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int error;

	if (!addrs.count) {
		uint8_t v4[4] = { 10, 113, 98, 2 };
		uint8_t v6[16] = { 0xfd, 0x71, 0x62, 0, [15] = 2 };
		sockkill_addrs_add(&addrs, AF_INET, v4);
		sockkill_addrs_add(&addrs, AF_INET6, v6);
	}
	if (size < 1)
		return 0;
	enum sockkill_status status = sockkill_parse_dump(data + 1, size - 1, data[0], &addrs, found, NULL, &error);
	if ((status == SOCKKILL_FAILED) != (error < 0) || error > 0 || error < -4095)
		abort();
	status = sockkill_parse_ack(data + 1, size - 1, data[0], &error);
	if (error > 0 || error < -4095 || (status == SOCKKILL_FAILED && error != -EBADMSG) ||
	    (status == SOCKKILL_MORE && error))
		abort();
	return 0;
}
