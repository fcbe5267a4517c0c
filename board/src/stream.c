/* Byte-stream bundle reassembly: a linear buffer of one maximal bundle plus
 * slack; complete bundles are returned in place, partial ones compacted. */
#include <string.h>

#include "stream.h"

void stream_rx_init(struct stream_rx *rx, uint8_t *buf, uint32_t limit)
{
	rx->buf = buf;
	rx->limit = limit;
	rx->cap = (size_t)limit + STREAM_SLACK;
	rx->start = 0;
	rx->end = 0;
}

void stream_rx_reset(struct stream_rx *rx)
{
	rx->start = 0;
	rx->end = 0;
}

uint8_t *stream_rx_tail(struct stream_rx *rx, size_t *room)
{
	if (rx->start == rx->end) {
		rx->start = 0;
		rx->end = 0;
	} else if (rx->start && rx->cap - rx->end < STREAM_SLACK) {
		/* What is left is one partial bundle (<= limit): compacting
		 * leaves at least STREAM_SLACK bytes of room. */
		memmove(rx->buf, rx->buf + rx->start, rx->end - rx->start);
		rx->end -= rx->start;
		rx->start = 0;
	}
	*room = rx->cap - rx->end;
	return rx->buf + rx->end;
}

void stream_rx_produced(struct stream_rx *rx, size_t len)
{
	if (len > rx->cap - rx->end)
		len = rx->cap - rx->end;
	rx->end += len;
}

enum stream_result stream_rx_next(struct stream_rx *rx, const uint8_t **bundle,
				  size_t *len, enum proto_bundle_status *reason)
{
	size_t available = rx->end - rx->start;
	uint32_t total;

	if (available < PROTO_BUNDLE_HDR_LEN)
		return STREAM_NEED_MORE;
	*reason = proto_header_check(rx->buf + rx->start, available, rx->limit, &total);
	if (*reason != PROTO_BUNDLE_OK)
		return STREAM_BAD_HEADER;
	if (available < total)
		return STREAM_NEED_MORE;
	*bundle = rx->buf + rx->start;
	*len = total;
	rx->start += total;
	return STREAM_BUNDLE;
}
