/* Unit tests of the protocol codec against doc/vectors/link-v1.txt (decode
 * every vector, re-encode unless "encode = no") plus codec edge cases.
 * Usage: test_proto [VECTORS] | test_proto --write-corpus DIR [VECTORS] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bytes.h"
#include "check.h"
#include "offload.h"
#include "proto.h"
#include "vectors.h"

CHECKS_DEFINE;

#define DEFAULT_VECTORS "../doc/vectors/link-v1.txt"
#define BUF_MAX (PROTO_BUNDLE_ABS_MAX + 16)

static uint8_t bytes[BUF_MAX], encoded[BUF_MAX];

struct rendered {
	unsigned count;
	char key[VECTOR_FIELDS_MAX][32];
	char value[VECTOR_FIELDS_MAX][300];
};

static void add(struct rendered *r, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add(struct rendered *r, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (r->count >= VECTOR_FIELDS_MAX)
		return;
	snprintf(r->key[r->count], sizeof(r->key[0]), "%s", key);
	va_start(ap, fmt);
	vsnprintf(r->value[r->count], sizeof(r->value[0]), fmt, ap);
	va_end(ap);
	r->count++;
}

static void add_addr(struct rendered *r, const char *key, int family, const uint8_t *addr,
		     int prefix)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, text, sizeof(text));
	if (prefix >= 0)
		add(r, key, "%s/%d", text, prefix);
	else
		add(r, key, "%s", text);
}

/* Renders a decoded control message as the vector file's key/value fields. */
static void render_control(const struct proto_control *msg, struct rendered *r)
{
	switch (msg->type) {
	case PROTO_HELLO: {
		const struct proto_hello *h = &msg->hello;
		add(r, "type", "hello");
		add(r, "version", "%u-%u", h->version_min, h->version_max);
		add(r, "role", "%s", h->role == PROTO_ROLE_BOARD ? "board" : "host");
		add(r, "max-bundle", "%u", h->max_bundle);
		if (h->has_mtu)
			add(r, "mtu", "%u", h->mtu);
		if (h->serial_len)
			add(r, "serial", "%s", h->serial);
		if (h->software_len)
			add(r, "software", "%s", h->software);
		if (h->has_caps)
			add(r, "caps", "%u", h->caps);
		if (h->has_instance)
			add(r, "instance", "%016llx", (unsigned long long)h->instance);
		break;
	}
	case PROTO_CONFIG: {
		const struct proto_config *c = &msg->config;
		add(r, "type", "config");
		add(r, "mtu", "%u", c->mtu);
		add_addr(r, "ipv4", AF_INET, c->ipv4, c->ipv4_prefix);
		if (c->has_gateway4)
			add_addr(r, "gateway4", AF_INET, c->gateway4, -1);
		for (unsigned i = 0; i < c->dns4_count; i++)
			add_addr(r, "dns4", AF_INET, c->dns4[i], -1);
		if (c->has_ipv6)
			add_addr(r, "ipv6", AF_INET6, c->ipv6, c->ipv6_prefix);
		if (c->has_gateway6)
			add_addr(r, "gateway6", AF_INET6, c->gateway6, -1);
		for (unsigned i = 0; i < c->dns6_count; i++)
			add_addr(r, "dns6", AF_INET6, c->dns6[i], -1);
		break;
	}
	case PROTO_KEEPALIVE:
		add(r, "type", "keepalive");
		add(r, "seq", "%u", msg->keepalive.seq);
		if (msg->keepalive.has_echo)
			add(r, "echo", "%u", msg->keepalive.echo);
		break;
	case PROTO_ERROR:
		add(r, "type", "error");
		add(r, "code", "%u", msg->error.code);
		if (msg->error.has_text)
			add(r, "text", "%s", msg->error.text);
		break;
	}
}

static bool is_meta(const char *key)
{
	return !strcmp(key, "hex") || !strcmp(key, "expect") || !strcmp(key, "encode") ||
	       !strcmp(key, "max-bundle");
}

static int parse_prefixed(int family, const char *text, uint8_t *addr, uint8_t *prefix)
{
	char copy[INET6_ADDRSTRLEN + 8];
	char *slash;

	snprintf(copy, sizeof(copy), "%s", text);
	slash = strchr(copy, '/');
	if (slash) {
		*slash = '\0';
		*prefix = (uint8_t)atoi(slash + 1);
	}
	return inet_pton(family, copy, addr) == 1 ? 0 : -1;
}

/* Builds a control message from a vector's fields (the encoder's input). */
static int fields_to_control(const struct vector *v, struct proto_control *msg)
{
	const char *type = vector_get(v, "type");

	memset(msg, 0, sizeof(*msg));
	if (!type)
		return -1;
	if (!strcmp(type, "hello"))
		msg->type = PROTO_HELLO;
	else if (!strcmp(type, "config"))
		msg->type = PROTO_CONFIG;
	else if (!strcmp(type, "keepalive"))
		msg->type = PROTO_KEEPALIVE;
	else if (!strcmp(type, "error"))
		msg->type = PROTO_ERROR;
	else
		return -1;

	for (unsigned i = 0; i < v->nfields; i++) {
		const char *key = v->fields[i].key, *value = v->fields[i].value;
		struct proto_config *c = &msg->config;
		int rc = 0;

		if (is_meta(key) && !(msg->type == PROTO_HELLO && !strcmp(key, "max-bundle")))
			continue;
		if (!strcmp(key, "type")) {
			continue;
		} else if (msg->type == PROTO_HELLO) {
			struct proto_hello *h = &msg->hello;
			unsigned min, max;
			if (!strcmp(key, "version") && sscanf(value, "%u-%u", &min, &max) == 2) {
				h->version_min = (uint16_t)min;
				h->version_max = (uint16_t)max;
			} else if (!strcmp(key, "role")) {
				h->role = !strcmp(value, "board") ? PROTO_ROLE_BOARD : PROTO_ROLE_HOST;
			} else if (!strcmp(key, "max-bundle")) {
				h->max_bundle = (uint32_t)strtoul(value, NULL, 10);
			} else if (!strcmp(key, "mtu")) {
				h->has_mtu = true;
				h->mtu = (uint16_t)strtoul(value, NULL, 10);
			} else if (!strcmp(key, "serial")) {
				h->serial_len = (uint8_t)snprintf(h->serial, sizeof(h->serial), "%s", value);
			} else if (!strcmp(key, "software")) {
				h->software_len = (uint8_t)snprintf(h->software, sizeof(h->software), "%s", value);
			} else if (!strcmp(key, "caps")) {
				h->has_caps = true;
				h->caps = (uint32_t)strtoul(value, NULL, 10);
			} else if (!strcmp(key, "instance")) {
				h->has_instance = true;
				h->instance = strtoull(value, NULL, 16);
			} else {
				rc = -1;
			}
		} else if (msg->type == PROTO_CONFIG) {
			if (!strcmp(key, "mtu"))
				c->mtu = (uint16_t)strtoul(value, NULL, 10);
			else if (!strcmp(key, "ipv4"))
				rc = parse_prefixed(AF_INET, value, c->ipv4, &c->ipv4_prefix);
			else if (!strcmp(key, "gateway4") && (c->has_gateway4 = true))
				rc = parse_prefixed(AF_INET, value, c->gateway4, NULL);
			else if (!strcmp(key, "dns4") && c->dns4_count < PROTO_DNS_MAX)
				rc = parse_prefixed(AF_INET, value, c->dns4[c->dns4_count++], NULL);
			else if (!strcmp(key, "ipv6") && (c->has_ipv6 = true))
				rc = parse_prefixed(AF_INET6, value, c->ipv6, &c->ipv6_prefix);
			else if (!strcmp(key, "gateway6") && (c->has_gateway6 = true))
				rc = parse_prefixed(AF_INET6, value, c->gateway6, NULL);
			else if (!strcmp(key, "dns6") && c->dns6_count < PROTO_DNS_MAX)
				rc = parse_prefixed(AF_INET6, value, c->dns6[c->dns6_count++], NULL);
			else
				rc = -1;
		} else if (msg->type == PROTO_KEEPALIVE) {
			if (!strcmp(key, "seq")) {
				msg->keepalive.seq = (uint32_t)strtoul(value, NULL, 10);
			} else if (!strcmp(key, "echo")) {
				msg->keepalive.has_echo = true;
				msg->keepalive.echo = (uint32_t)strtoul(value, NULL, 10);
			} else {
				rc = -1;
			}
		} else {
			if (!strcmp(key, "code")) {
				msg->error.code = (uint16_t)strtoul(value, NULL, 10);
			} else if (!strcmp(key, "text")) {
				msg->error.has_text = true;
				msg->error.text_len = (uint16_t)snprintf(msg->error.text,
						sizeof(msg->error.text), "%s", value);
			} else {
				rc = -1;
			}
		}
		if (rc)
			return -1;
	}
	return 0;
}

static void test_control_vector(const struct vector *v, const uint8_t *data, size_t len)
{
	const char *expect = vector_get(v, "expect");
	const char *encode = vector_get(v, "encode");
	struct proto_control msg;
	enum proto_control_status status = proto_control_decode(data, len, &msg);

	if (strcmp(expect, "ok")) {
		const char *got = status == PROTO_CONTROL_MALFORMED ? "drop:malformed" :
				  status == PROTO_CONTROL_UNKNOWN_TYPE ? "ignore:unknown-type" : "ok";
		CHECK(!strcmp(got, expect), "control %s: expected %s, got %s", v->name, expect, got);
		return;
	}
	CHECK(status == PROTO_CONTROL_OK, "control %s: decode status %d", v->name, status);
	if (status != PROTO_CONTROL_OK)
		return;

	struct rendered r = { 0 };
	unsigned field = 0;
	render_control(&msg, &r);
	for (unsigned i = 0; i < v->nfields; i++) {
		if (is_meta(v->fields[i].key) &&
		    !(msg.type == PROTO_HELLO && !strcmp(v->fields[i].key, "max-bundle")))
			continue;
		bool same = field < r.count && !strcmp(r.key[field], v->fields[i].key) &&
			    !strcmp(r.value[field], v->fields[i].value);
		CHECK(same, "control %s: field %s = %s, decoded %s = %s", v->name,
		      v->fields[i].key, v->fields[i].value, field < r.count ? r.key[field] : "(none)",
		      field < r.count ? r.value[field] : "");
		field++;
	}
	CHECK(field == r.count, "control %s: decoded %u fields, vector has %u", v->name,
	      r.count, field);

	if (encode && !strcmp(encode, "no"))
		return;
	struct proto_control from_fields;
	CHECK(fields_to_control(v, &from_fields) == 0, "control %s: cannot parse fields", v->name);
	size_t out_len = proto_control_encode(&from_fields, encoded, sizeof(encoded));
	CHECK(out_len == len && !memcmp(encoded, data, len), "control %s: encoding differs",
	      v->name);
}

static void test_bundle_vector(const struct vector *v, const uint8_t *data, size_t len)
{
	const char *expect = vector_get(v, "expect");
	const char *encode = vector_get(v, "encode");
	const char *max = vector_get(v, "max-bundle");
	uint32_t limit = max ? (uint32_t)strtoul(max, NULL, 10) : PROTO_BUNDLE_ABS_MAX;
	enum proto_bundle_status status = proto_bundle_check(data, len, limit);

	if (strcmp(expect, "ok")) {
		char got[64];
		snprintf(got, sizeof(got), "drop:%s", proto_bundle_status_name(status));
		CHECK(!strcmp(got, expect), "bundle %s: expected %s, got %s", v->name, expect,
		      status == PROTO_BUNDLE_OK ? "ok" : got);
		return;
	}
	CHECK(status == PROTO_BUNDLE_OK, "bundle %s: dropped as %s", v->name,
	      proto_bundle_status_name(status));

	struct proto_frame_iter iter;
	struct proto_frame frame;
	struct proto_builder builder;
	unsigned index = 0;
	static uint8_t payload[BUF_MAX];

	proto_frames_begin(&iter, data, len);
	proto_builder_init(&builder, encoded, PROTO_BUNDLE_ABS_MAX);
	for (unsigned i = 0; i < v->nfields; i++) {
		if (strcmp(v->fields[i].key, "frame"))
			continue;
		const char *value = v->fields[i].value;
		const char *colon = strchr(value, ':');
		unsigned channel = (unsigned)strtoul(value, NULL, 10);
		ssize_t payload_len = colon ? hex_decode(colon + 1, payload, sizeof(payload)) : -1;

		CHECK(payload_len >= 0, "bundle %s: bad frame field %s", v->name, value);
		if (payload_len < 0)
			return;
		bool got = proto_frames_next(&iter, &frame);
		CHECK(got && frame.channel == channel && frame.len == (size_t)payload_len &&
		      !memcmp(frame.payload, payload, (size_t)payload_len),
		      "bundle %s: frame %u differs", v->name, index);
		CHECK(proto_builder_add(&builder, (uint16_t)channel, payload, (size_t)payload_len),
		      "bundle %s: builder refused frame %u", v->name, index);
		index++;
	}
	CHECK(!proto_frames_next(&iter, &frame), "bundle %s: more frames than expected", v->name);
	if (encode && !strcmp(encode, "no"))
		return;
	size_t out_len = proto_builder_finish(&builder);
	CHECK(out_len == len && !memcmp(encoded, data, len), "bundle %s: encoding differs",
	      v->name);
}

/* [offload NAME]: the board's verdict on an OFFLOAD frame payload, and the
 * header fields it decodes (doc/PROTOCOL.md section 7). */
static void test_offload_vector(const struct vector *v, const uint8_t *data, size_t len)
{
	const char *expect = vector_get(v, "expect");
	const char *mtu_text = vector_get(v, "mtu");
	struct virtio_net_hdr vnet;
	const uint8_t *packet;
	size_t packet_len;
	enum offload_status status = offload_parse(data, len, mtu_text ? (uint32_t)strtoul(mtu_text, NULL, 10) : 1500,
						   &vnet, &packet, &packet_len);
	char want[64];

	snprintf(want, sizeof(want), "%s", expect);
	const char *verdict = !strncmp(want, "drop:", 5) ? want + 5 : want;
	CHECK(!strcmp(offload_status_name(status), verdict), "offload %s: got %s, want %s", v->name,
	      offload_status_name(status), verdict);
	if (status != OFFLOAD_OK)
		return;
	struct offload_hdr hdr;
	offload_hdr_decode(data, &hdr);
	CHECK(hdr.gso_type == strtoul(vector_get(v, "gso-type"), NULL, 10), "offload %s: gso-type", v->name);
	CHECK(hdr.gso_size == strtoul(vector_get(v, "gso-size"), NULL, 10), "offload %s: gso-size", v->name);
	CHECK(hdr.csum_start == strtoul(vector_get(v, "csum-start"), NULL, 10), "offload %s: csum-start", v->name);
	CHECK(hdr.csum_offset == strtoul(vector_get(v, "csum-offset"), NULL, 10), "offload %s: csum-offset", v->name);
	CHECK(!!(hdr.flags & OFFLOAD_F_CSUM_PARTIAL) == !strcmp(vector_get(v, "csum-partial"), "yes"),
	      "offload %s: csum-partial", v->name);
	CHECK(packet == data + OFFLOAD_HDR_LEN && packet_len == len - OFFLOAD_HDR_LEN, "offload %s: packet bounds",
	      v->name);
	uint8_t encoded_hdr[OFFLOAD_HDR_LEN];
	offload_hdr_encode(&hdr, encoded_hdr);
	CHECK(!memcmp(encoded_hdr, data, OFFLOAD_HDR_LEN), "offload %s: header re-encodes", v->name);
}

static void test_edge_cases(void)
{
	struct proto_builder builder;
	struct proto_control msg, decoded;
	uint8_t ip[40] = { 0x45 };

	/* Builder honours its limit exactly. */
	proto_builder_init(&builder, encoded, 8 + 8 + 40);
	CHECK(proto_builder_room(&builder) == 40, "room %zu", proto_builder_room(&builder));
	CHECK(!proto_builder_add(&builder, 1, ip, 41), "oversized frame accepted");
	CHECK(proto_builder_add(&builder, 1, ip, 40), "fitting frame refused");
	CHECK(proto_builder_room(&builder) == 0, "room after full");
	CHECK(!proto_builder_add(&builder, 1, ip, 0), "frame past limit accepted");
	CHECK(proto_builder_finish(&builder) == 56, "finished length");
	CHECK(proto_bundle_check(encoded, 56, 56) == PROTO_BUNDLE_OK, "built bundle invalid");
	CHECK(proto_bundle_check(encoded, 56, 55) == PROTO_BUNDLE_BAD_LENGTH, "limit ignored");

	/* IP frame rules: 20..MTU bytes, version 4 or 6. */
	CHECK(proto_ip_frame_valid(ip, 20, 1500), "20-byte IPv4");
	CHECK(!proto_ip_frame_valid(ip, 19, 1500), "19 bytes accepted");
	CHECK(!proto_ip_frame_valid(ip, 40, 39), "above MTU accepted");
	ip[0] = 0x60;
	CHECK(proto_ip_frame_valid(ip, 40, 1500), "IPv6");
	ip[0] = 0x55;
	CHECK(!proto_ip_frame_valid(ip, 40, 1500), "version 5 accepted");

	/* The length an IP header states (truncated TUN reads). */
	uint8_t hdr[8] = { 0x45, 0, 0xff, 0xfe, 0x00, 0x10 };
	CHECK(proto_ip_stated_length(hdr, sizeof(hdr)) == 65534, "IPv4 total length");
	hdr[0] = 0x60;
	CHECK(proto_ip_stated_length(hdr, sizeof(hdr)) == 40 + 16, "IPv6 40 + payload length");
	CHECK(proto_ip_stated_length(hdr, 5) == 0, "too short to tell");
	hdr[0] = 0x70;
	CHECK(proto_ip_stated_length(hdr, sizeof(hdr)) == 0, "neither IPv4 nor IPv6");

	/* Largest legal HELLO and ERROR round-trip; an oversized message is refused. */
	memset(&msg, 0, sizeof(msg));
	msg.type = PROTO_HELLO;
	msg.hello = (struct proto_hello){ .version_min = 1, .version_max = 1,
					  .role = PROTO_ROLE_BOARD, .max_bundle = 16384,
					  .has_mtu = true, .mtu = 576, .serial_len = 64,
					  .software_len = 64, .has_caps = true, .caps = 1 };
	memset(msg.hello.serial, 'S', 64);
	memset(msg.hello.software, 'W', 64);
	size_t len = proto_control_encode(&msg, encoded, sizeof(encoded));
	CHECK(len > 0 && proto_control_decode(encoded, len, &decoded) == PROTO_CONTROL_OK &&
	      decoded.hello.serial_len == 64 && decoded.hello.mtu == 576,
	      "HELLO round trip (len %zu)", len);
	CHECK(proto_control_encode(&msg, encoded, len - 1) == 0, "encode into short buffer");

	memset(&msg, 0, sizeof(msg));
	msg.type = PROTO_ERROR;
	msg.error.code = PROTO_ERR_CONFIG;
	msg.error.has_text = true;
	msg.error.text_len = 256;
	memset(msg.error.text, 'e', 256);
	len = proto_control_encode(&msg, encoded, sizeof(encoded));
	CHECK(len == 2 + 6 + 4 + 256 &&
	      proto_control_decode(encoded, len, &decoded) == PROTO_CONTROL_OK &&
	      decoded.error.text_len == 256, "ERROR round trip");
	/* A control payload of exactly 1024 bytes is legal, 1025 is not. */
	memset(encoded, 0, sizeof(encoded));
	put_le16(encoded, PROTO_KEEPALIVE);
	put_le16(encoded + 2, PROTO_TAG_SEQ);
	put_le16(encoded + 4, 4);
	put_le16(encoded + 10, 300);
	put_le16(encoded + 12, 1024 - 14);
	CHECK(proto_control_decode(encoded, 1024, &decoded) == PROTO_CONTROL_OK, "1024 bytes");
	put_le16(encoded + 12, 1025 - 14);
	CHECK(proto_control_decode(encoded, 1025, &decoded) == PROTO_CONTROL_MALFORMED,
	      "1025 bytes");

	/* Config equality ignores TLV order, not content. */
	struct proto_config a = { .mtu = 1500, .ipv4 = { 10, 0, 0, 2 }, .ipv4_prefix = 24,
				  .dns4_count = 2, .dns4 = { { 1, 1, 1, 1 }, { 8, 8, 8, 8 } } };
	struct proto_config b = a;
	CHECK(proto_config_equal(&a, &b), "equal configs");
	b.dns4[1][3] = 4;
	CHECK(!proto_config_equal(&a, &b), "different DNS");
	b = a;
	b.has_gateway4 = true;
	CHECK(!proto_config_equal(&a, &b), "gateway added");
	b = a;
	b.gateway6[0] = 1; /* not present: ignored */
	CHECK(proto_config_equal(&a, &b), "absent gateway bytes ignored");
}

static int write_file(const char *dir, const char *sub, const char *name, const uint8_t *data,
		      size_t len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	FILE *file = fopen(path, "wb");
	if (!file)
		return -1;
	size_t written = fwrite(data, 1, len, file);
	return fclose(file) || written != len ? -1 : 0;
}

/* Seeds for the fuzzers: each vector as a file, and stream inputs made of
 * several bundles back to back. */
static int write_corpus(const char *dir, struct vector *vectors, ssize_t count)
{
	static uint8_t stream[BUF_MAX];
	size_t stream_len = 0;
	unsigned files = 0;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (ssize_t i = 0; i < count; i++) {
		const struct vector *v = &vectors[i];
		ssize_t len = hex_decode(vector_get(v, "hex"), bytes, sizeof(bytes));
		bool bundle = !strcmp(v->kind, "bundle");

		if (len < 0 || write_file(dir, v->kind, v->name, bytes, (size_t)len)) {
			fprintf(stderr, "cannot write corpus file for %s\n", v->name);
			return 1;
		}
		files++;
		if (bundle && !strcmp(vector_get(v, "expect"), "ok") &&
		    stream_len + (size_t)len <= sizeof(stream)) {
			memcpy(stream + stream_len, bytes, (size_t)len);
			stream_len += (size_t)len;
			if (write_file(dir, "stream", v->name, stream, stream_len))
				return 1;
			files++;
		}
	}
	printf("wrote %u corpus files to %s\n", files, dir);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_VECTORS;
	const char *corpus_dir = NULL;
	struct vector *vectors;
	unsigned bundles = 0, controls = 0, offloads = 0, vectors_passed = 0;

	if (argc >= 3 && !strcmp(argv[1], "--write-corpus")) {
		corpus_dir = argv[2];
		if (argc >= 4)
			path = argv[3];
	} else if (argc >= 2) {
		path = argv[1];
	}
	ssize_t count = vectors_load(path, &vectors);
	if (count < 0)
		return 2;
	if (corpus_dir) {
		int rc = write_corpus(corpus_dir, vectors, count);
		vectors_free(vectors, (size_t)count);
		return rc;
	}

	for (ssize_t i = 0; i < count; i++) {
		const struct vector *v = &vectors[i];
		const char *hex = vector_get(v, "hex");
		ssize_t len = hex ? hex_decode(hex, bytes, sizeof(bytes)) : -1;

		CHECK(len >= 0 && vector_get(v, "expect"), "vector %s (line %u) lacks hex/expect",
		      v->name, v->line);
		if (len < 0 || !vector_get(v, "expect"))
			continue;
		unsigned failed_before = checks_failed;
		if (!strcmp(v->kind, "bundle")) {
			test_bundle_vector(v, bytes, (size_t)len);
			bundles++;
		} else if (!strcmp(v->kind, "control")) {
			test_control_vector(v, bytes, (size_t)len);
			controls++;
		} else if (!strcmp(v->kind, "offload")) {
			test_offload_vector(v, bytes, (size_t)len);
			offloads++;
		} else {
			CHECK(0, "unknown vector kind %s", v->kind);
		}
		if (checks_failed == failed_before)
			vectors_passed++;
	}
	CHECK(bundles >= 15 && controls >= 30 && offloads >= 10, "too few vectors: %u bundle, %u control, %u offload",
	      bundles, controls, offloads);
	test_edge_cases();
	vectors_free(vectors, (size_t)count);
	printf("test_proto: %u of %zd vectors passed (%u bundle, %u control, %u offload) from %s\n",
	       vectors_passed, count, bundles, controls, offloads, path);
	return checks_report("test_proto");
}
