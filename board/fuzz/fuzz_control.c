/* libFuzzer target: the control message decoder. Whatever it accepts must
 * re-encode (ascending tags, within 1024 bytes) and decode to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_control msg, again;
	uint8_t encoded[PROTO_CONTROL_MAX];

	if (proto_control_decode(data, size, &msg) != PROTO_CONTROL_OK)
		return 0;
	size_t len = proto_control_encode(&msg, encoded, sizeof(encoded));
	/* Re-encoding drops unknown tags only, so it is never longer. */
	if (!len || len > size)
		abort();
	if (proto_control_decode(encoded, len, &again) != PROTO_CONTROL_OK ||
	    memcmp(&msg, &again, sizeof(msg)))
		abort();
	if (msg.type == PROTO_CONFIG && !proto_config_equal(&msg.config, &again.config))
		abort();
	return 0;
}
