/* qbnet link protocol v1 (doc/PROTOCOL.md): bundle/frame codec and control
 * message (TLV) codec. Pure functions on byte buffers, no I/O. */
#ifndef QB_PROTO_H
#define QB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION_MIN 1
#define PROTO_VERSION_MAX 1

#define PROTO_BUNDLE_HDR_LEN 8
#define PROTO_FRAME_HDR_LEN 8
#define PROTO_BUNDLE_ABS_MAX 1048576u
#define PROTO_BUNDLE_PRE_HELLO 16384u
#define PROTO_MAX_BUNDLE_MIN 16384u
#define PROTO_MAX_BUNDLE_DEFAULT 262144u
#define PROTO_CONTROL_MAX 1024u
#define PROTO_IP_MIN 20u
#define PROTO_MTU_MIN 576u
#define PROTO_MTU_MIN_IPV6 1280u
#define PROTO_MTU_MAX 65535u
#define PROTO_MTU_DEFAULT 1500u
#define PROTO_STRING_MAX 64u
#define PROTO_ERROR_TEXT_MAX 256u
#define PROTO_DNS_MAX 4u

enum proto_channel {
	PROTO_CHANNEL_CONTROL = 0,
	PROTO_CHANNEL_IP = 1,
	PROTO_CHANNEL_LINK_TEST = 65535,	/* filler, discarded and counted */
};

/* ---- bundles and frames ---- */

enum proto_bundle_status {
	PROTO_BUNDLE_OK,
	PROTO_BUNDLE_BAD_MAGIC,
	PROTO_BUNDLE_BAD_FORMAT,
	PROTO_BUNDLE_BAD_LENGTH,
	PROTO_BUNDLE_TRUNCATED_FRAME,
};

const char *proto_bundle_status_name(enum proto_bundle_status status);

/* Checks an 8-byte bundle header against the receiver's limit; on success
 * stores the announced total length (8 ... limit) in *length. */
enum proto_bundle_status proto_header_check(const uint8_t *header, size_t available,
					    uint32_t limit, uint32_t *length);

/* Validates a whole bundle as delivered by a transport: header, length equal
 * to len and within limit, and a frame walk that exactly fills it. */
enum proto_bundle_status proto_bundle_check(const uint8_t *bundle, size_t len,
					    uint32_t limit);

/* Frame flag bit 0 on channel 1: the payload starts with the 8-byte offload
 * header (section 7, src/offload.h). */
#define PROTO_FRAME_F_OFFLOAD 0x1u

struct proto_frame {
	uint16_t channel;
	uint16_t flags;
	const uint8_t *payload;
	uint32_t len;
};

struct proto_frame_iter {
	const uint8_t *bundle;
	size_t len;
	size_t offset;
};

/* Iterates the frames of a bundle; bounds-checked, stops at the first frame
 * that does not fit (use proto_bundle_check first to accept bundles whole). */
void proto_frames_begin(struct proto_frame_iter *iter, const uint8_t *bundle, size_t len);
bool proto_frames_next(struct proto_frame_iter *iter, struct proto_frame *frame);

/* Builds a bundle in a caller-owned buffer of at least 'limit' bytes. */
struct proto_builder {
	uint8_t *buf;
	size_t limit;
	size_t len;
	unsigned frames;
};

void proto_builder_init(struct proto_builder *builder, uint8_t *buf, size_t limit);
/* Largest payload one more frame can carry (0 when not even a header fits). */
size_t proto_builder_room(const struct proto_builder *builder);
/* Where the next frame's payload goes, for zero-copy reads. */
uint8_t *proto_builder_payload(struct proto_builder *builder);
/* Appends a frame whose payload was written at proto_builder_payload(). */
bool proto_builder_commit(struct proto_builder *builder, uint16_t channel, size_t len);
bool proto_builder_add(struct proto_builder *builder, uint16_t channel,
		       const uint8_t *payload, size_t len);
/* Writes the length field; returns the bundle's total length. */
size_t proto_builder_finish(struct proto_builder *builder);

/* An IP frame is 20 ... mtu bytes with version nibble 4 or 6. */
bool proto_ip_frame_valid(const uint8_t *payload, size_t len, uint32_t mtu);

/* The length an IP packet's header states (IPv4 total length, IPv6 40 +
 * payload length), 0 when len is too short to tell or it is neither. */
size_t proto_ip_stated_length(const uint8_t *packet, size_t len);

/* ---- control messages (channel 0) ---- */

enum proto_control_type {
	PROTO_HELLO = 1,
	PROTO_CONFIG = 2,
	PROTO_KEEPALIVE = 3,
	PROTO_ERROR = 4,
};

enum proto_role {
	PROTO_ROLE_BOARD = 1,
	PROTO_ROLE_HOST = 2,
};

enum proto_error_code {
	PROTO_ERR_VERSION = 1,
	PROTO_ERR_MALFORMED = 2,
	PROTO_ERR_CONFIG = 3,
	PROTO_ERR_VIOLATION = 4,
};

enum proto_tag {
	PROTO_TAG_VERSION = 1,
	PROTO_TAG_ROLE = 2,
	PROTO_TAG_MAX_BUNDLE = 3,
	PROTO_TAG_MTU = 4,
	PROTO_TAG_SERIAL = 5,
	PROTO_TAG_SOFTWARE = 6,
	PROTO_TAG_CAPS = 7,
	PROTO_TAG_INSTANCE = 8,
	PROTO_TAG_IPV4_ADDRESS = 16,
	PROTO_TAG_IPV4_GATEWAY = 17,
	PROTO_TAG_IPV4_DNS = 18,
	PROTO_TAG_IPV6_ADDRESS = 32,
	PROTO_TAG_IPV6_GATEWAY = 33,
	PROTO_TAG_IPV6_DNS = 34,
	PROTO_TAG_SEQ = 48,
	PROTO_TAG_ECHO = 49,
	PROTO_TAG_ERROR_CODE = 64,
	PROTO_TAG_ERROR_TEXT = 65,
};

#define PROTO_CAP_IPV6 0x1u
#define PROTO_CAP_OFFLOAD 0x2u	/* section 7 */

struct proto_hello {
	uint16_t version_min;
	uint16_t version_max;
	uint8_t role;
	uint32_t max_bundle;
	bool has_mtu;
	uint16_t mtu;		/* PROTO_MTU_DEFAULT when absent */
	uint8_t serial_len;	/* 0: absent */
	char serial[PROTO_STRING_MAX + 1];
	uint8_t software_len;	/* 0: absent */
	char software[PROTO_STRING_MAX + 1];
	bool has_caps;
	uint32_t caps;		/* 0 when absent */
	bool has_instance;
	uint64_t instance;	/* the host driver process's id (host HELLO); never 0 */
};

struct proto_config {
	uint16_t mtu;
	uint8_t ipv4[4];
	uint8_t ipv4_prefix;
	bool has_gateway4;
	uint8_t gateway4[4];
	uint8_t dns4_count;
	uint8_t dns4[PROTO_DNS_MAX][4];
	bool has_ipv6;
	uint8_t ipv6[16];
	uint8_t ipv6_prefix;
	bool has_gateway6;
	uint8_t gateway6[16];
	uint8_t dns6_count;
	uint8_t dns6[PROTO_DNS_MAX][16];
};

struct proto_keepalive {
	uint32_t seq;
	bool has_echo;
	uint32_t echo;
};

struct proto_error {
	uint16_t code;
	bool has_text;
	uint16_t text_len;
	char text[PROTO_ERROR_TEXT_MAX + 1];
};

struct proto_control {
	uint16_t type;
	union {
		struct proto_hello hello;
		struct proto_config config;
		struct proto_keepalive keepalive;
		struct proto_error error;
	};
};

enum proto_control_status {
	PROTO_CONTROL_OK,
	PROTO_CONTROL_MALFORMED,
	PROTO_CONTROL_UNKNOWN_TYPE,
};

/* Decodes a channel-0 frame payload. Strings are NUL-terminated copies. */
enum proto_control_status proto_control_decode(const uint8_t *payload, size_t len,
					       struct proto_control *msg);

/* Encodes msg with tags in ascending order; returns the length, or 0 when it
 * does not fit in cap or would exceed PROTO_CONTROL_MAX. */
size_t proto_control_encode(const struct proto_control *msg, uint8_t *buf, size_t cap);

const char *proto_control_type_name(uint16_t type);
const char *proto_error_code_name(uint16_t code);

/* Two CONFIGs are equal when they mean the same (TLV order aside). */
bool proto_config_equal(const struct proto_config *a, const struct proto_config *b);

#endif
