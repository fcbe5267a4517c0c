/* qbnet link protocol v1: bundle validation, frame iteration and building,
 * control message TLV decoding and encoding. No I/O, no allocation. */
#include <string.h>

#include "bytes.h"
#include "proto.h"

static const uint8_t bundle_magic[2] = { 0x71, 0x62 };
#define BUNDLE_FORMAT 1

const char *proto_bundle_status_name(enum proto_bundle_status status)
{
	switch (status) {
	case PROTO_BUNDLE_OK:
		return "ok";
	case PROTO_BUNDLE_BAD_MAGIC:
		return "bad-magic";
	case PROTO_BUNDLE_BAD_FORMAT:
		return "bad-format";
	case PROTO_BUNDLE_BAD_LENGTH:
		return "bad-length";
	case PROTO_BUNDLE_TRUNCATED_FRAME:
		return "truncated-frame";
	}
	return "unknown";
}

enum proto_bundle_status proto_header_check(const uint8_t *header, size_t available,
					    uint32_t limit, uint32_t *length)
{
	if (available < PROTO_BUNDLE_HDR_LEN)
		return PROTO_BUNDLE_BAD_LENGTH;
	if (header[0] != bundle_magic[0] || header[1] != bundle_magic[1])
		return PROTO_BUNDLE_BAD_MAGIC;
	if (header[2] != BUNDLE_FORMAT)
		return PROTO_BUNDLE_BAD_FORMAT;

	if (limit > PROTO_BUNDLE_ABS_MAX)
		limit = PROTO_BUNDLE_ABS_MAX;
	uint32_t total = get_le32(header + 4);
	if (total < PROTO_BUNDLE_HDR_LEN || total > limit)
		return PROTO_BUNDLE_BAD_LENGTH;
	*length = total;
	return PROTO_BUNDLE_OK;
}

enum proto_bundle_status proto_bundle_check(const uint8_t *bundle, size_t len,
					    uint32_t limit)
{
	uint32_t total;
	enum proto_bundle_status status = proto_header_check(bundle, len, limit, &total);

	if (status != PROTO_BUNDLE_OK)
		return status;
	if (total != len)
		return PROTO_BUNDLE_BAD_LENGTH;

	/* All arithmetic on size_t offsets that never exceed len (<= 1 MiB). */
	size_t offset = PROTO_BUNDLE_HDR_LEN;
	while (offset < len) {
		if (len - offset < PROTO_FRAME_HDR_LEN)
			return PROTO_BUNDLE_TRUNCATED_FRAME;
		uint32_t payload_len = get_le32(bundle + offset + 4);
		offset += PROTO_FRAME_HDR_LEN;
		if (payload_len > len - offset)
			return PROTO_BUNDLE_TRUNCATED_FRAME;
		offset += payload_len;
	}
	return PROTO_BUNDLE_OK;
}

void proto_frames_begin(struct proto_frame_iter *iter, const uint8_t *bundle, size_t len)
{
	iter->bundle = bundle;
	iter->len = len;
	iter->offset = PROTO_BUNDLE_HDR_LEN;
}

bool proto_frames_next(struct proto_frame_iter *iter, struct proto_frame *frame)
{
	size_t offset = iter->offset;

	if (offset >= iter->len || iter->len - offset < PROTO_FRAME_HDR_LEN)
		return false;
	const uint8_t *header = iter->bundle + offset;
	uint32_t payload_len = get_le32(header + 4);
	if (payload_len > iter->len - offset - PROTO_FRAME_HDR_LEN)
		return false;

	frame->channel = get_le16(header);
	frame->flags = get_le16(header + 2);
	frame->payload = header + PROTO_FRAME_HDR_LEN;
	frame->len = payload_len;
	iter->offset = offset + PROTO_FRAME_HDR_LEN + payload_len;
	return true;
}

void proto_builder_init(struct proto_builder *builder, uint8_t *buf, size_t limit)
{
	if (limit > PROTO_BUNDLE_ABS_MAX)
		limit = PROTO_BUNDLE_ABS_MAX;
	builder->buf = buf;
	builder->limit = limit;
	builder->len = PROTO_BUNDLE_HDR_LEN;
	builder->frames = 0;
	buf[0] = bundle_magic[0];
	buf[1] = bundle_magic[1];
	buf[2] = BUNDLE_FORMAT;
	buf[3] = 0;
	put_le32(buf + 4, PROTO_BUNDLE_HDR_LEN);
}

size_t proto_builder_room(const struct proto_builder *builder)
{
	if (builder->limit < builder->len + PROTO_FRAME_HDR_LEN)
		return 0;
	return builder->limit - builder->len - PROTO_FRAME_HDR_LEN;
}

uint8_t *proto_builder_payload(struct proto_builder *builder)
{
	return builder->buf + builder->len + PROTO_FRAME_HDR_LEN;
}

bool proto_builder_commit(struct proto_builder *builder, uint16_t channel, size_t len)
{
	if (builder->limit < builder->len + PROTO_FRAME_HDR_LEN ||
	    len > proto_builder_room(builder))
		return false;
	uint8_t *header = builder->buf + builder->len;
	put_le16(header, channel);
	put_le16(header + 2, 0);
	put_le32(header + 4, (uint32_t)len);
	builder->len += PROTO_FRAME_HDR_LEN + len;
	builder->frames++;
	return true;
}

bool proto_builder_add(struct proto_builder *builder, uint16_t channel,
		       const uint8_t *payload, size_t len)
{
	if (builder->limit < builder->len + PROTO_FRAME_HDR_LEN ||
	    len > proto_builder_room(builder))
		return false;
	if (len)
		memcpy(proto_builder_payload(builder), payload, len);
	return proto_builder_commit(builder, channel, len);
}

size_t proto_builder_finish(struct proto_builder *builder)
{
	put_le32(builder->buf + 4, (uint32_t)builder->len);
	return builder->len;
}

bool proto_ip_frame_valid(const uint8_t *payload, size_t len, uint32_t mtu)
{
	if (len < PROTO_IP_MIN || len > mtu)
		return false;
	uint8_t version = payload[0] >> 4;
	return version == 4 || version == 6;
}

size_t proto_ip_stated_length(const uint8_t *packet, size_t len)
{
	if (len < 6)
		return 0;
	if (packet[0] >> 4 == 4)
		return (size_t)packet[2] << 8 | packet[3];
	if (packet[0] >> 4 == 6)
		return 40 + ((size_t)packet[4] << 8 | packet[5]);
	return 0;
}

/* ---- control messages ---- */

struct tlv {
	uint16_t tag;
	uint16_t len;
	const uint8_t *value;
};

/* Tags are tracked for duplicates by index; all defined tags are < 80. */
#define TAG_SLOTS 80

struct tlv_seen {
	uint8_t count[TAG_SLOTS];
};

/* Returns 1 with the next TLV, 0 at the end, -1 when a TLV runs past it. */
static int tlv_next(const uint8_t *payload, size_t len, size_t *offset, struct tlv *tlv)
{
	if (*offset == len)
		return 0;
	if (len - *offset < 4)
		return -1;
	const uint8_t *p = payload + *offset;
	uint16_t value_len = get_le16(p + 2);
	if (value_len > len - *offset - 4)
		return -1;
	tlv->tag = get_le16(p);
	tlv->len = value_len;
	tlv->value = p + 4;
	*offset += 4u + value_len;
	return 1;
}

/* Counts a single-valued tag; false when it was already present. */
static bool seen_once(struct tlv_seen *seen, uint16_t tag)
{
	if (tag >= TAG_SLOTS)
		return true;
	return ++seen->count[tag] == 1;
}

static bool copy_string(const struct tlv *tlv, size_t min, size_t max, char *out,
			size_t *out_len)
{
	if (tlv->len < min || tlv->len > max)
		return false;
	memcpy(out, tlv->value, tlv->len);
	out[tlv->len] = '\0';
	*out_len = tlv->len;
	return true;
}

/* Each per-type handler returns 1 (used), 0 (not its tag: skip), -1 (malformed). */
static int hello_tlv(struct proto_hello *hello, const struct tlv *tlv, struct tlv_seen *seen)
{
	size_t len;

	switch (tlv->tag) {
	case PROTO_TAG_VERSION:
		if (!seen_once(seen, tlv->tag) || tlv->len != 4)
			return -1;
		hello->version_min = get_le16(tlv->value);
		hello->version_max = get_le16(tlv->value + 2);
		if (hello->version_min < 1 || hello->version_min > hello->version_max)
			return -1;
		return 1;
	case PROTO_TAG_ROLE:
		if (!seen_once(seen, tlv->tag) || tlv->len != 1)
			return -1;
		hello->role = tlv->value[0];
		if (hello->role != PROTO_ROLE_BOARD && hello->role != PROTO_ROLE_HOST)
			return -1;
		return 1;
	case PROTO_TAG_MAX_BUNDLE:
		if (!seen_once(seen, tlv->tag) || tlv->len != 4)
			return -1;
		hello->max_bundle = get_le32(tlv->value);
		if (hello->max_bundle < PROTO_MAX_BUNDLE_MIN ||
		    hello->max_bundle > PROTO_BUNDLE_ABS_MAX)
			return -1;
		return 1;
	case PROTO_TAG_MTU:
		if (!seen_once(seen, tlv->tag) || tlv->len != 2)
			return -1;
		hello->mtu = get_le16(tlv->value);
		hello->has_mtu = true;
		return hello->mtu >= PROTO_MTU_MIN ? 1 : -1;
	case PROTO_TAG_SERIAL:
		if (!seen_once(seen, tlv->tag) ||
		    !copy_string(tlv, 1, PROTO_STRING_MAX, hello->serial, &len))
			return -1;
		hello->serial_len = (uint8_t)len;
		return 1;
	case PROTO_TAG_SOFTWARE:
		if (!seen_once(seen, tlv->tag) ||
		    !copy_string(tlv, 1, PROTO_STRING_MAX, hello->software, &len))
			return -1;
		hello->software_len = (uint8_t)len;
		return 1;
	case PROTO_TAG_CAPS:
		if (!seen_once(seen, tlv->tag) || tlv->len != 4)
			return -1;
		hello->caps = get_le32(tlv->value);
		hello->has_caps = true;
		return 1;
	case PROTO_TAG_INSTANCE:
		if (!seen_once(seen, tlv->tag) || tlv->len != 8)
			return -1;
		hello->instance = get_le64(tlv->value);
		hello->has_instance = true;
		return hello->instance ? 1 : -1;
	}
	return 0;
}

static int config_tlv(struct proto_config *config, const struct tlv *tlv, struct tlv_seen *seen)
{
	switch (tlv->tag) {
	case PROTO_TAG_MTU:
		if (!seen_once(seen, tlv->tag) || tlv->len != 2)
			return -1;
		config->mtu = get_le16(tlv->value);
		return config->mtu >= PROTO_MTU_MIN ? 1 : -1;
	case PROTO_TAG_IPV4_ADDRESS:
		if (!seen_once(seen, tlv->tag) || tlv->len != 5)
			return -1;
		memcpy(config->ipv4, tlv->value, 4);
		config->ipv4_prefix = tlv->value[4];
		return config->ipv4_prefix >= 1 && config->ipv4_prefix <= 30 ? 1 : -1;
	case PROTO_TAG_IPV4_GATEWAY:
		if (!seen_once(seen, tlv->tag) || tlv->len != 4)
			return -1;
		memcpy(config->gateway4, tlv->value, 4);
		config->has_gateway4 = true;
		return 1;
	case PROTO_TAG_IPV4_DNS:
		if (tlv->len != 4 || config->dns4_count >= PROTO_DNS_MAX)
			return -1;
		memcpy(config->dns4[config->dns4_count++], tlv->value, 4);
		return 1;
	case PROTO_TAG_IPV6_ADDRESS:
		if (!seen_once(seen, tlv->tag) || tlv->len != 17)
			return -1;
		memcpy(config->ipv6, tlv->value, 16);
		config->ipv6_prefix = tlv->value[16];
		config->has_ipv6 = true;
		return config->ipv6_prefix >= 1 && config->ipv6_prefix <= 128 ? 1 : -1;
	case PROTO_TAG_IPV6_GATEWAY:
		if (!seen_once(seen, tlv->tag) || tlv->len != 16)
			return -1;
		memcpy(config->gateway6, tlv->value, 16);
		config->has_gateway6 = true;
		return 1;
	case PROTO_TAG_IPV6_DNS:
		if (tlv->len != 16 || config->dns6_count >= PROTO_DNS_MAX)
			return -1;
		memcpy(config->dns6[config->dns6_count++], tlv->value, 16);
		return 1;
	}
	return 0;
}

static int keepalive_tlv(struct proto_keepalive *keepalive, const struct tlv *tlv,
			 struct tlv_seen *seen)
{
	switch (tlv->tag) {
	case PROTO_TAG_SEQ:
		if (!seen_once(seen, tlv->tag) || tlv->len != 4)
			return -1;
		keepalive->seq = get_le32(tlv->value);
		return 1;
	case PROTO_TAG_ECHO:
		if (!seen_once(seen, tlv->tag) || tlv->len != 4)
			return -1;
		keepalive->echo = get_le32(tlv->value);
		keepalive->has_echo = true;
		return 1;
	}
	return 0;
}

static int error_tlv(struct proto_error *error, const struct tlv *tlv, struct tlv_seen *seen)
{
	size_t len;

	switch (tlv->tag) {
	case PROTO_TAG_ERROR_CODE:
		if (!seen_once(seen, tlv->tag) || tlv->len != 2)
			return -1;
		error->code = get_le16(tlv->value);
		return 1;
	case PROTO_TAG_ERROR_TEXT:
		if (!seen_once(seen, tlv->tag) ||
		    !copy_string(tlv, 0, PROTO_ERROR_TEXT_MAX, error->text, &len))
			return -1;
		error->text_len = (uint16_t)len;
		error->has_text = true;
		return 1;
	}
	return 0;
}

static int control_tlv(struct proto_control *msg, const struct tlv *tlv, struct tlv_seen *seen)
{
	switch (msg->type) {
	case PROTO_HELLO:
		return hello_tlv(&msg->hello, tlv, seen);
	case PROTO_CONFIG:
		return config_tlv(&msg->config, tlv, seen);
	case PROTO_KEEPALIVE:
		return keepalive_tlv(&msg->keepalive, tlv, seen);
	case PROTO_ERROR:
		return error_tlv(&msg->error, tlv, seen);
	}
	return -1;
}

/* Required tags and cross-field rules, once all TLVs are read. */
static bool control_complete(const struct proto_control *msg, const struct tlv_seen *seen)
{
	switch (msg->type) {
	case PROTO_HELLO:
		return seen->count[PROTO_TAG_VERSION] && seen->count[PROTO_TAG_ROLE] &&
		       seen->count[PROTO_TAG_MAX_BUNDLE];
	case PROTO_CONFIG:
		if (!seen->count[PROTO_TAG_MTU] || !seen->count[PROTO_TAG_IPV4_ADDRESS])
			return false;
		return !msg->config.has_ipv6 || msg->config.mtu >= PROTO_MTU_MIN_IPV6;
	case PROTO_KEEPALIVE:
		return seen->count[PROTO_TAG_SEQ];
	case PROTO_ERROR:
		return seen->count[PROTO_TAG_ERROR_CODE];
	}
	return false;
}

enum proto_control_status proto_control_decode(const uint8_t *payload, size_t len,
					       struct proto_control *msg)
{
	struct tlv_seen seen;
	struct tlv tlv;
	size_t offset = 2;
	int more;

	memset(msg, 0, sizeof(*msg));
	if (len < 2 || len > PROTO_CONTROL_MAX)
		return PROTO_CONTROL_MALFORMED;
	msg->type = get_le16(payload);
	if (msg->type < PROTO_HELLO || msg->type > PROTO_ERROR)
		return PROTO_CONTROL_UNKNOWN_TYPE;
	if (msg->type == PROTO_HELLO)
		msg->hello.mtu = PROTO_MTU_DEFAULT;

	memset(&seen, 0, sizeof(seen));
	while ((more = tlv_next(payload, len, &offset, &tlv)) > 0) {
		if (control_tlv(msg, &tlv, &seen) < 0)
			return PROTO_CONTROL_MALFORMED;
	}
	if (more < 0 || !control_complete(msg, &seen))
		return PROTO_CONTROL_MALFORMED;
	return PROTO_CONTROL_OK;
}

struct tlv_writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static void put_tlv(struct tlv_writer *w, uint16_t tag, const void *value, size_t len)
{
	if (w->overflow || len > UINT16_MAX || w->cap - w->len < 4 + len) {
		w->overflow = true;
		return;
	}
	put_le16(w->buf + w->len, tag);
	put_le16(w->buf + w->len + 2, (uint16_t)len);
	if (len)
		memcpy(w->buf + w->len + 4, value, len);
	w->len += 4 + len;
}

static void put_tlv_u16(struct tlv_writer *w, uint16_t tag, uint16_t value)
{
	uint8_t bytes[2];

	put_le16(bytes, value);
	put_tlv(w, tag, bytes, sizeof(bytes));
}

static void put_tlv_u32(struct tlv_writer *w, uint16_t tag, uint32_t value)
{
	uint8_t bytes[4];

	put_le32(bytes, value);
	put_tlv(w, tag, bytes, sizeof(bytes));
}

static void put_tlv_prefixed(struct tlv_writer *w, uint16_t tag, const uint8_t *addr,
			     size_t addr_len, uint8_t prefix)
{
	uint8_t bytes[17];

	memcpy(bytes, addr, addr_len);
	bytes[addr_len] = prefix;
	put_tlv(w, tag, bytes, addr_len + 1);
}

static void encode_hello(struct tlv_writer *w, const struct proto_hello *hello)
{
	uint8_t version[4];

	put_le16(version, hello->version_min);
	put_le16(version + 2, hello->version_max);
	put_tlv(w, PROTO_TAG_VERSION, version, sizeof(version));
	put_tlv(w, PROTO_TAG_ROLE, &hello->role, 1);
	put_tlv_u32(w, PROTO_TAG_MAX_BUNDLE, hello->max_bundle);
	if (hello->has_mtu)
		put_tlv_u16(w, PROTO_TAG_MTU, hello->mtu);
	if (hello->serial_len)
		put_tlv(w, PROTO_TAG_SERIAL, hello->serial, hello->serial_len);
	if (hello->software_len)
		put_tlv(w, PROTO_TAG_SOFTWARE, hello->software, hello->software_len);
	if (hello->has_caps)
		put_tlv_u32(w, PROTO_TAG_CAPS, hello->caps);
	if (hello->has_instance) {
		uint8_t bytes[8];

		put_le64(bytes, hello->instance);
		put_tlv(w, PROTO_TAG_INSTANCE, bytes, sizeof(bytes));
	}
}

static void encode_config(struct tlv_writer *w, const struct proto_config *config)
{
	put_tlv_u16(w, PROTO_TAG_MTU, config->mtu);
	put_tlv_prefixed(w, PROTO_TAG_IPV4_ADDRESS, config->ipv4, 4, config->ipv4_prefix);
	if (config->has_gateway4)
		put_tlv(w, PROTO_TAG_IPV4_GATEWAY, config->gateway4, 4);
	for (unsigned i = 0; i < config->dns4_count && i < PROTO_DNS_MAX; i++)
		put_tlv(w, PROTO_TAG_IPV4_DNS, config->dns4[i], 4);
	if (config->has_ipv6)
		put_tlv_prefixed(w, PROTO_TAG_IPV6_ADDRESS, config->ipv6, 16,
				 config->ipv6_prefix);
	if (config->has_gateway6)
		put_tlv(w, PROTO_TAG_IPV6_GATEWAY, config->gateway6, 16);
	for (unsigned i = 0; i < config->dns6_count && i < PROTO_DNS_MAX; i++)
		put_tlv(w, PROTO_TAG_IPV6_DNS, config->dns6[i], 16);
}

size_t proto_control_encode(const struct proto_control *msg, uint8_t *buf, size_t cap)
{
	struct tlv_writer w = { .buf = buf, .cap = cap, .len = 2 };

	if (cap < 2)
		return 0;
	put_le16(buf, msg->type);
	switch (msg->type) {
	case PROTO_HELLO:
		encode_hello(&w, &msg->hello);
		break;
	case PROTO_CONFIG:
		encode_config(&w, &msg->config);
		break;
	case PROTO_KEEPALIVE:
		put_tlv_u32(&w, PROTO_TAG_SEQ, msg->keepalive.seq);
		if (msg->keepalive.has_echo)
			put_tlv_u32(&w, PROTO_TAG_ECHO, msg->keepalive.echo);
		break;
	case PROTO_ERROR:
		put_tlv_u16(&w, PROTO_TAG_ERROR_CODE, msg->error.code);
		if (msg->error.has_text)
			put_tlv(&w, PROTO_TAG_ERROR_TEXT, msg->error.text,
				msg->error.text_len);
		break;
	default:
		return 0;
	}
	if (w.overflow || w.len > PROTO_CONTROL_MAX)
		return 0;
	return w.len;
}

const char *proto_control_type_name(uint16_t type)
{
	switch (type) {
	case PROTO_HELLO:
		return "HELLO";
	case PROTO_CONFIG:
		return "CONFIG";
	case PROTO_KEEPALIVE:
		return "KEEPALIVE";
	case PROTO_ERROR:
		return "ERROR";
	}
	return "unknown";
}

const char *proto_error_code_name(uint16_t code)
{
	switch (code) {
	case PROTO_ERR_VERSION:
		return "no common protocol version";
	case PROTO_ERR_MALFORMED:
		return "malformed message";
	case PROTO_ERR_CONFIG:
		return "could not apply CONFIG";
	case PROTO_ERR_VIOLATION:
		return "protocol violation";
	}
	return "unknown error";
}

bool proto_config_equal(const struct proto_config *a, const struct proto_config *b)
{
	if (a->mtu != b->mtu || memcmp(a->ipv4, b->ipv4, 4) ||
	    a->ipv4_prefix != b->ipv4_prefix || a->has_gateway4 != b->has_gateway4 ||
	    (a->has_gateway4 && memcmp(a->gateway4, b->gateway4, 4)) ||
	    a->dns4_count != b->dns4_count ||
	    memcmp(a->dns4, b->dns4, (size_t)a->dns4_count * 4))
		return false;
	if (a->has_ipv6 != b->has_ipv6 ||
	    (a->has_ipv6 && (memcmp(a->ipv6, b->ipv6, 16) || a->ipv6_prefix != b->ipv6_prefix)))
		return false;
	if (a->has_gateway6 != b->has_gateway6 ||
	    (a->has_gateway6 && memcmp(a->gateway6, b->gateway6, 16)))
		return false;
	return a->dns6_count == b->dns6_count &&
	       !memcmp(a->dns6, b->dns6, (size_t)a->dns6_count * 16);
}
