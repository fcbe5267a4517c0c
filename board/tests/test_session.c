/* Unit tests of the session state machine with fake hooks: HELLO and version
 * negotiation, CONFIG idempotence and failure, host restart, keepalive and
 * peer timeout, ERROR replies, and a new host driver's instance. */
#include <string.h>

#include "check.h"
#include "log.h"
#include "proto.h"
#include "session.h"
#include "stats.h"

CHECKS_DEFINE;

#define SENT_MAX 16

static struct fake {
	struct proto_control sent[SENT_MAX];
	unsigned sent_count;
	unsigned apply_calls;
	uint16_t applied_mtu;
	const char *apply_error;	/* non-NULL: apply fails with this */
	unsigned peer_lost_calls;
	unsigned peer_calls;
	bool offload;		/* session_offload() when peer_changed ran */
	uint32_t tx_limit;	/* session_tx_limit() then */
	unsigned host_changed_calls;
	bool host_changed_previous;	/* previous was given */
	uint8_t host_changed_previous_last;	/* the last octet of its IPv4 address */
	uint8_t host_changed_current_last;
	bool configured_at_host_changed;
} fake;

static struct session *current_session;

static bool fake_send(void *ctx, const uint8_t *payload, size_t len)
{
	(void)ctx;
	CHECK(len <= PROTO_CONTROL_MAX, "control of %zu bytes", len);
	if (fake.sent_count < SENT_MAX) {
		enum proto_control_status status =
			proto_control_decode(payload, len, &fake.sent[fake.sent_count]);
		CHECK(status == PROTO_CONTROL_OK, "session sent an undecodable message");
		fake.sent_count++;
	}
	return true;
}

static int fake_apply(void *ctx, const struct proto_config *config, uint16_t mtu, char *err,
		      size_t err_len)
{
	(void)ctx;
	(void)config;
	fake.apply_calls++;
	fake.applied_mtu = mtu;
	if (fake.apply_error) {
		snprintf(err, err_len, "%s", fake.apply_error);
		return -1;
	}
	return 0;
}

static void fake_peer_lost(void *ctx, const char *reason)
{
	(void)ctx;
	(void)reason;
	fake.peer_lost_calls++;
}

/* ctx is the session in the tests that watch this hook, NULL elsewhere. */
static void fake_peer_changed(void *ctx)
{
	const struct session *session = ctx;

	fake.peer_calls++;
	if (session) {
		fake.offload = session_offload(session);
		fake.tx_limit = session_tx_limit(session);
	}
}

static void fake_host_changed(void *ctx, const struct proto_config *previous,
			      const struct proto_config *current)
{
	(void)ctx;
	fake.host_changed_calls++;
	fake.host_changed_previous = previous != NULL;
	fake.host_changed_previous_last = previous ? previous->ipv4[3] : 0;
	fake.host_changed_current_last = current->ipv4[3];
	fake.configured_at_host_changed = current_session && session_configured(current_session);
}

static const struct session_hooks hooks = {
	.send_control = fake_send,
	.apply_config = fake_apply,
	.peer_lost = fake_peer_lost,
	.peer_changed = fake_peer_changed,
	.host_changed = fake_host_changed,
};

static const struct session_params params = {
	.max_bundle = 262144,
	.mtu_max = 65535,
	.caps = PROTO_CAP_IPV6,
	.serial = "TEST-0001",
	.software = "qbnetd test",
};

static void reset_sent(void)
{
	fake.sent_count = 0;
}

static void feed(struct session *session, const struct proto_control *msg, uint64_t now)
{
	uint8_t payload[PROTO_CONTROL_MAX];
	size_t len = proto_control_encode(msg, payload, sizeof(payload));

	CHECK(len > 0, "test message does not encode");
	session_bundle_received(session, now);
	session_control(session, payload, len, now);
}

static void feed_hello_caps(struct session *session, uint16_t min, uint16_t max,
			    uint32_t max_bundle, uint8_t role, uint32_t caps, uint64_t now)
{
	struct proto_control msg = { .type = PROTO_HELLO };

	msg.hello.version_min = min;
	msg.hello.version_max = max;
	msg.hello.role = role;
	msg.hello.max_bundle = max_bundle;
	msg.hello.has_caps = caps != 0;
	msg.hello.caps = caps;
	feed(session, &msg, now);
}

static void feed_hello(struct session *session, uint16_t min, uint16_t max, uint32_t max_bundle,
		       uint8_t role, uint64_t now)
{
	struct proto_control msg = { .type = PROTO_HELLO };

	msg.hello.version_min = min;
	msg.hello.version_max = max;
	msg.hello.role = role;
	msg.hello.max_bundle = max_bundle;
	msg.hello.software_len = 9;
	memcpy(msg.hello.software, "qbnet 0.1", 9);
	feed(session, &msg, now);
}

static void feed_host_hello(struct session *session, bool with_instance, uint64_t instance, uint64_t now)
{
	struct proto_control msg = { .type = PROTO_HELLO };

	msg.hello.version_min = 1;
	msg.hello.version_max = 1;
	msg.hello.role = PROTO_ROLE_HOST;
	msg.hello.max_bundle = 262144;
	msg.hello.has_instance = with_instance;
	msg.hello.instance = instance;
	feed(session, &msg, now);
}

static struct proto_control config_msg(uint16_t mtu, uint8_t last_octet)
{
	struct proto_control msg = { .type = PROTO_CONFIG };

	msg.config.mtu = mtu;
	memcpy(msg.config.ipv4, (uint8_t[]){ 10, 113, 98, last_octet }, 4);
	msg.config.ipv4_prefix = 24;
	msg.config.has_gateway4 = true;
	memcpy(msg.config.gateway4, (uint8_t[]){ 10, 113, 98, 1 }, 4);
	msg.config.dns4_count = 1;
	memcpy(msg.config.dns4[0], (uint8_t[]){ 10, 113, 98, 3 }, 4);
	return msg;
}

static bool sent_type(unsigned index, uint16_t type)
{
	return index < fake.sent_count && fake.sent[index].type == type;
}

static void test_negotiate(void)
{
	CHECK(session_negotiate(1, 1, 1, 1) == 1, "1-1 vs 1-1");
	CHECK(session_negotiate(1, 1, 1, 3) == 1, "1-1 vs 1-3");
	CHECK(session_negotiate(1, 3, 2, 5) == 3, "1-3 vs 2-5");
	CHECK(session_negotiate(2, 4, 1, 2) == 2, "2-4 vs 1-2");
	CHECK(session_negotiate(1, 1, 2, 3) == 0, "1-1 vs 2-3");
	CHECK(session_negotiate(2, 3, 1, 1) == 0, "2-3 vs 1-1");
}

static void test_hello_and_config(void)
{
	struct session s;
	struct proto_control config = config_msg(65520, 2);

	memset(&fake, 0, sizeof(fake));
	session_init(&s, &params, &hooks, NULL);
	CHECK(session_timeout_ms(&s, 0) == -1, "no timer while down");

	session_link_up(&s, 1000);
	CHECK(fake.sent_count == 1 && sent_type(0, PROTO_HELLO), "HELLO on link up");
	const struct proto_hello *h = &fake.sent[0].hello;
	CHECK(h->role == PROTO_ROLE_BOARD && h->version_min == 1 && h->version_max == 1 &&
	      h->max_bundle == 262144 && h->mtu == 65535 && h->caps == 1 &&
	      !strcmp(h->serial, "TEST-0001") && !strcmp(h->software, "qbnetd test"),
	      "HELLO contents");
	CHECK(session_tx_limit(&s) == PROTO_BUNDLE_PRE_HELLO, "16384 before host HELLO");
	CHECK(!session_configured(&s), "not configured before CONFIG");

	reset_sent();
	feed_hello(&s, 1, 1, 131072, PROTO_ROLE_HOST, 1100);
	CHECK(fake.sent_count == 1 && sent_type(0, PROTO_HELLO), "HELLO reply");
	CHECK(session_tx_limit(&s) == 131072, "peer MAX_BUNDLE after HELLO");
	CHECK(!session_configured(&s), "not configured after HELLO");

	feed(&s, &config, 1200);
	CHECK(fake.apply_calls == 1 && fake.applied_mtu == 65520, "CONFIG applied");
	CHECK(session_configured(&s), "configured");
	CHECK(session_tun_mtu(&s) == 65520 && session_config_mtu(&s) == 65520, "MTU");

	feed(&s, &config, 1300);
	CHECK(fake.apply_calls == 1, "identical CONFIG changes nothing");
	CHECK(session_configured(&s), "still configured");

	/* A host HELLO restarts the session; the same CONFIG then changes nothing. */
	reset_sent();
	feed_hello(&s, 1, 1, 131072, PROTO_ROLE_HOST, 1400);
	CHECK(sent_type(0, PROTO_HELLO), "HELLO reply on restart");
	CHECK(!session_configured(&s), "waits for CONFIG after restart");
	feed(&s, &config, 1500);
	CHECK(fake.apply_calls == 1 && session_configured(&s), "restart with same CONFIG");

	struct proto_control other = config_msg(65520, 5);
	feed(&s, &other, 1600);
	CHECK(fake.apply_calls == 2 && session_configured(&s), "different CONFIG reconfigures");

	/* Failure to apply: ERROR 3 naming the cause, and a retry next time. */
	reset_sent();
	fake.apply_error = "cannot add address: File exists";
	feed(&s, &config, 1700);
	CHECK(sent_type(0, PROTO_ERROR) && fake.sent[0].error.code == PROTO_ERR_CONFIG &&
	      !strcmp(fake.sent[0].error.text, "cannot add address: File exists"),
	      "ERROR 3 with the cause");
	CHECK(!session_configured(&s), "not configured after failure");
	fake.apply_error = NULL;
	feed(&s, &config, 1800);
	CHECK(fake.apply_calls == 4 && session_configured(&s), "retry after failure");

	/* Malformed CONFIG: ERROR 2, configuration kept. */
	reset_sent();
	uint64_t malformed_before = stats.control_malformed;
	const uint8_t bad_config[] = { 0x02, 0x00, 0x04, 0x00, 0x02, 0x00, 0xdc, 0x05 };
	session_control(&s, bad_config, sizeof(bad_config), 1900);
	CHECK(sent_type(0, PROTO_ERROR) && fake.sent[0].error.code == PROTO_ERR_MALFORMED,
	      "ERROR 2 for malformed CONFIG");
	CHECK(stats.control_malformed == malformed_before + 1, "malformed counted");

	/* Unknown type: counted, no answer. */
	reset_sent();
	const uint8_t unknown[] = { 0x09, 0x00 };
	uint64_t unknown_before = stats.control_unknown_type;
	session_control(&s, unknown, sizeof(unknown), 1950);
	CHECK(fake.sent_count == 0 && stats.control_unknown_type == unknown_before + 1,
	      "unknown type ignored and counted");

	session_link_down(&s);
	CHECK(!session_configured(&s) && session_timeout_ms(&s, 2000) == -1, "link down");
	CHECK(session_tx_limit(&s) == PROTO_BUNDLE_PRE_HELLO, "limit reset on link down");
}

static void test_mtu_clamp(void)
{
	struct session s;
	struct proto_control config = config_msg(65520, 2);

	memset(&fake, 0, sizeof(fake));
	session_init(&s, &params, &hooks, NULL);
	session_link_up(&s, 0);
	feed_hello(&s, 1, 1, 16384, PROTO_ROLE_HOST, 10);
	feed(&s, &config, 20);
	CHECK(fake.applied_mtu == 16384 - 16, "MTU clamped to the host's bundle limit: %u",
	      fake.applied_mtu);
	CHECK(session_config_mtu(&s) == 65520, "host MTU kept for received frames");
}

static void test_incompatible(void)
{
	struct session s;
	struct proto_control config = config_msg(1500, 2);
	struct proto_control keepalive = { .type = PROTO_KEEPALIVE };

	memset(&fake, 0, sizeof(fake));
	session_init(&s, &params, &hooks, NULL);
	session_link_up(&s, 0);
	reset_sent();
	feed_hello(&s, 2, 3, 262144, PROTO_ROLE_HOST, 10);
	CHECK(fake.sent_count == 2 && sent_type(0, PROTO_HELLO) && sent_type(1, PROTO_ERROR),
	      "HELLO reply then ERROR");
	CHECK(fake.sent[1].error.code == PROTO_ERR_VERSION &&
	      strstr(fake.sent[1].error.text, "1-1") && strstr(fake.sent[1].error.text, "2-3"),
	      "ERROR 1 names both ranges: %s", fake.sent[1].error.text);

	reset_sent();
	feed(&s, &config, 20);
	keepalive.keepalive.seq = 5;
	feed(&s, &keepalive, 30);
	session_tick(&s, 2000);
	CHECK(fake.sent_count == 0 && fake.apply_calls == 0,
	      "nothing but HELLO replies when incompatible");

	feed_hello(&s, 1, 2, 262144, PROTO_ROLE_HOST, 2100);
	CHECK(fake.sent_count == 1 && sent_type(0, PROTO_HELLO), "compatible HELLO recovers");
	feed(&s, &config, 2200);
	CHECK(session_configured(&s), "configured after recovery");

	/* A HELLO from a board is a protocol violation. */
	reset_sent();
	feed_hello(&s, 1, 1, 262144, PROTO_ROLE_BOARD, 2300);
	CHECK(fake.sent_count == 1 && sent_type(0, PROTO_ERROR) &&
	      fake.sent[0].error.code == PROTO_ERR_VIOLATION, "ERROR 4 for a board HELLO");
	CHECK(session_configured(&s), "board HELLO does not restart the session");
}

static void test_liveness(void)
{
	struct session s;
	struct proto_control keepalive = { .type = PROTO_KEEPALIVE };

	memset(&fake, 0, sizeof(fake));
	session_init(&s, &params, &hooks, NULL);
	session_link_up(&s, 10000);
	session_bundle_sent(&s, 10000);
	CHECK(session_timeout_ms(&s, 10000) == 1000, "keepalive due in 1 s: %d",
	      session_timeout_ms(&s, 10000));
	reset_sent();
	session_tick(&s, 10999);
	CHECK(fake.sent_count == 0, "no keepalive before 1 s");
	session_tick(&s, 11000);
	CHECK(fake.sent_count == 1 && sent_type(0, PROTO_KEEPALIVE) &&
	      !fake.sent[0].keepalive.has_echo, "keepalive after 1 s idle");
	uint32_t first_seq = fake.sent[0].keepalive.seq;

	/* The host's KEEPALIVE is answered with ECHO = its SEQ. */
	reset_sent();
	keepalive.keepalive.seq = 77;
	feed(&s, &keepalive, 11500);
	CHECK(fake.sent_count == 1 && fake.sent[0].keepalive.has_echo &&
	      fake.sent[0].keepalive.echo == 77 && fake.sent[0].keepalive.seq == first_seq + 1,
	      "KEEPALIVE reply with ECHO and counting SEQ");
	reset_sent();
	keepalive.keepalive.has_echo = true;
	feed(&s, &keepalive, 11600);
	CHECK(fake.sent_count == 0, "a reply is not answered");

	session_tick(&s, 12000);
	session_tick(&s, 13000);
	CHECK(fake.peer_lost_calls == 0, "host alive");
	session_tick(&s, 15000);
	CHECK(session_timeout_ms(&s, 15500) == 500, "keepalive deadline: %d",
	      session_timeout_ms(&s, 15500));
	session_tick(&s, 16100);
	CHECK(session_timeout_ms(&s, 16100) == 500, "peer deadline: %d",
	      session_timeout_ms(&s, 16100));
	session_tick(&s, 16600);
	CHECK(fake.peer_lost_calls == 1, "host gone after 5 s without a bundle");
	CHECK(session_timeout_ms(&s, 16600) == -1, "no timer after peer lost");
	session_tick(&s, 20000);
	CHECK(fake.peer_lost_calls == 1, "peer lost reported once");
}

/* USB GET_INFO and RESET_LINK: the HELLO payload on its own, and a restart
 * that behaves as for a host HELLO (HELLO out, CONFIG awaited, pre-HELLO
 * bundle limit). */
static void test_usb_requests(void)
{
	struct session session;
	struct proto_control msg, again;
	uint8_t payload[PROTO_CONTROL_MAX];

	session_init(&session, &params, &hooks, NULL);
	size_t len = session_hello_payload(&session, payload, sizeof(payload));
	CHECK(len > 0 && proto_control_decode(payload, len, &msg) == PROTO_CONTROL_OK &&
	      msg.type == PROTO_HELLO && msg.hello.role == PROTO_ROLE_BOARD &&
	      msg.hello.max_bundle == 262144 && !strcmp(msg.hello.serial, "TEST-0001") &&
	      !strcmp(msg.hello.software, "qbnetd test"), "HELLO payload for GET_INFO");
	CHECK(!session_hello_payload(&session, payload, 10), "too small a buffer: 0");

	session_link_up(&session, 1000);
	feed_hello(&session, 1, 1, 65536, PROTO_ROLE_HOST, 1000);
	struct proto_control config = config_msg(1500, 2);
	feed(&session, &config, 1000);
	CHECK(session_configured(&session) && session_tx_limit(&session) == 65536, "configured");
	reset_sent();
	session_restart(&session, 2000);
	CHECK(!session_configured(&session) && session_tx_limit(&session) == PROTO_BUNDLE_PRE_HELLO,
	      "restart waits for CONFIG, pre-HELLO limit");
	CHECK(fake.sent_count == 1 && fake.sent[0].type == PROTO_HELLO, "restart sends HELLO");
	len = session_hello_payload(&session, payload, sizeof(payload));
	CHECK(proto_control_decode(payload, len, &again) == PROTO_CONTROL_OK &&
	      !memcmp(&again, &msg, sizeof(msg)), "same HELLO as on the link");
	unsigned applies = fake.apply_calls;
	feed(&session, &config, 2000);
	CHECK(session_configured(&session) && fake.apply_calls == applies,
	      "the same CONFIG after a restart changes nothing");
}

/* Offload is in use while both HELLOs of the session carry CAPS bit 1. The
 * peer_changed hook runs on every HELLO and link change, so the data path
 * recomputes what it derives (TUN offloads, bundle room) each time, also
 * when only the host's bundle limit changed. */
static void test_offload(void)
{
	struct session s;
	struct session_params with_offload = params;
	struct proto_control config = config_msg(1500, 2);

	with_offload.caps = PROTO_CAP_IPV6 | PROTO_CAP_OFFLOAD;
	memset(&fake, 0, sizeof(fake));
	session_init(&s, &with_offload, &hooks, &s);
	session_link_up(&s, 0);
	CHECK(fake.sent[0].hello.caps == 3, "board HELLO carries CAPS bits 0 and 1");
	CHECK(!session_offload(&s) && fake.peer_calls == 1 && !fake.offload &&
	      fake.tx_limit == PROTO_BUNDLE_PRE_HELLO, "link up: recomputed, off before the host's HELLO");

	feed_hello_caps(&s, 1, 1, 262144, PROTO_ROLE_HOST, PROTO_CAP_OFFLOAD, 10);
	CHECK(session_offload(&s) && fake.peer_calls == 2 && fake.offload && fake.tx_limit == 262144,
	      "on with CAPS bit 1 in both HELLOs, the host's limit seen");
	feed(&s, &config, 20);
	CHECK(session_configured(&s) && session_offload(&s) && fake.peer_calls == 2,
	      "still on once configured; CONFIG is not a peer change");
	feed_hello_caps(&s, 1, 1, 262144, PROTO_ROLE_HOST, 0xffffffffu, 30);
	CHECK(session_offload(&s) && fake.peer_calls == 3, "a second HELLO with it: recomputed too");
	feed_hello_caps(&s, 1, 1, 16384, PROTO_ROLE_HOST, PROTO_CAP_OFFLOAD, 35);
	CHECK(session_offload(&s) && fake.peer_calls == 4 && fake.offload && fake.tx_limit == 16384,
	      "a HELLO that only lowers the bundle limit: the hook sees offload on and the new limit");

	feed_hello_caps(&s, 1, 1, 262144, PROTO_ROLE_HOST, PROTO_CAP_IPV6, 40);
	CHECK(!session_offload(&s) && fake.peer_calls == 5 && !fake.offload,
	      "a new session without CAPS bit 1 turns it off");
	feed_hello_caps(&s, 1, 1, 262144, PROTO_ROLE_HOST, PROTO_CAP_OFFLOAD, 50);
	CHECK(session_offload(&s) && fake.peer_calls == 6, "and a new one with it on");

	session_restart(&s, 60);
	CHECK(!session_offload(&s) && fake.peer_calls == 7 && !fake.offload &&
	      fake.tx_limit == PROTO_BUNDLE_PRE_HELLO, "RESET_LINK: off and the pre-HELLO limit");
	feed_hello_caps(&s, 1, 1, 262144, PROTO_ROLE_HOST, PROTO_CAP_OFFLOAD, 70);
	feed_hello_caps(&s, 2, 3, 262144, PROTO_ROLE_HOST, PROTO_CAP_OFFLOAD, 80);
	CHECK(!session_offload(&s) && fake.peer_calls == 9 && !fake.offload, "incompatible HELLO: off");
	feed_hello_caps(&s, 1, 1, 262144, PROTO_ROLE_HOST, PROTO_CAP_OFFLOAD, 90);
	feed_hello(&s, 1, 1, 262144, PROTO_ROLE_BOARD, 95);
	CHECK(session_offload(&s) && fake.peer_calls == 10, "a board's HELLO changes nothing");
	session_link_down(&s);
	CHECK(!session_offload(&s) && fake.peer_calls == 11 && !fake.offload, "link down: off");
	session_link_up(&s, 100);
	feed_hello_caps(&s, 1, 1, 262144, PROTO_ROLE_HOST, PROTO_CAP_OFFLOAD, 100);
	unsigned before = fake.peer_calls;
	session_tick(&s, 100 + SESSION_PEER_TIMEOUT_MS);
	CHECK(!session_offload(&s) && fake.peer_lost_calls == 1 && fake.peer_calls == before + 1 &&
	      !fake.offload, "host silent: off");

	/* A board whose TUN cannot offload never turns it on. */
	memset(&fake, 0, sizeof(fake));
	session_init(&s, &params, &hooks, &s);
	session_link_up(&s, 0);
	feed_hello_caps(&s, 1, 1, 262144, PROTO_ROLE_HOST, PROTO_CAP_OFFLOAD, 10);
	CHECK(!session_offload(&s) && !fake.offload && fake.peer_calls == 2, "not offered: never on");
}

/* A host that repeats what makes the board log (HELLOs, a board HELLO, an
 * incompatible HELLO, malformed control, ERRORs, a CONFIG whose MTU is
 * clamped, a CONFIG that fails) gets one line of each kind per 10 s. */
static void test_log_rate_limit(void)
{
	static char text[65536];
	struct session s;
	struct proto_control error = { .type = PROTO_ERROR };
	struct proto_control config = config_msg(65520, 2);
	const uint8_t malformed[] = { 0x03, 0x00, 0x30, 0x00, 0x09 };

	memset(text, 0, sizeof(text));
	FILE *out = fmemopen(text, sizeof(text) - 1, "w");
	setvbuf(out, NULL, _IONBF, 0);
	log_set_output(out);
	log_set_level(LOG_LEVEL_INFO);
	memset(&fake, 0, sizeof(fake));
	session_init(&s, &params, &hooks, NULL);
	session_link_up(&s, 0);
	feed_hello(&s, 1, 1, 16384, PROTO_ROLE_HOST, 1);
	feed(&s, &config, 2);
	error.error.code = 99;
	error.error.has_text = true;
	error.error.text_len = 4;
	memcpy(error.error.text, "oops", 4);
	for (int i = 0; i < 50; i++) {
		feed_hello(&s, 1, 1, 16384, PROTO_ROLE_HOST, 10);
		feed(&s, &config, 11);
		feed_hello(&s, 1, 1, 16384, PROTO_ROLE_BOARD, 12);
		feed_hello(&s, 5, 6, 16384, PROTO_ROLE_HOST, 13);
		session_control(&s, malformed, sizeof(malformed), 14);
		feed(&s, &error, 15);
	}
	feed_hello(&s, 1, 1, 16384, PROTO_ROLE_HOST, 16);
	fake.apply_error = "cannot add address: File exists";
	for (int i = 0; i < 50; i++) {
		struct proto_control other = config_msg(1500, (uint8_t)(3 + i));
		feed(&s, &other, 20);
	}
	fake.apply_error = NULL;
	static const char *const kinds[] = {
		"HELLO from host", "received a HELLO with role board", "no common protocol version",
		"dropped a malformed", "host reported ERROR 99", "does not fit the host's bundle limit",
		"host restarted the session", "cannot apply CONFIG",
	};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		CHECK(checks_count(text, kinds[i]) == 1, "'%s' logged %zu times, not once", kinds[i],
		      checks_count(text, kinds[i]));
	log_set_output(NULL);
	fclose(out);
}

static void test_host_instance(void)
{
	struct session s;
	struct proto_control config = config_msg(65520, 2);

	memset(&fake, 0, sizeof(fake));
	session_init(&s, &params, &hooks, NULL);
	current_session = &s;
	session_link_up(&s, 0);
	feed_host_hello(&s, true, 0x1111, 1);
	feed(&s, &config, 2);
	CHECK(fake.host_changed_calls == 0, "the first host this daemon sees ends nothing");

	/* The same host after a link loss (it held the board's flows): nothing ends. */
	session_link_down(&s);
	session_link_up(&s, 10);
	feed_host_hello(&s, true, 0x1111, 11);
	feed(&s, &config, 12);
	CHECK(fake.host_changed_calls == 0, "the same instance again ends nothing");

	/* A restarted host: its HELLO names a new instance; its CONFIG ends the old one's connections. */
	feed_host_hello(&s, true, 0x2222, 20);
	CHECK(fake.host_changed_calls == 0, "not before its CONFIG (the board's replies could not reach it)");
	session_link_down(&s);
	session_link_up(&s, 21);
	feed_host_hello(&s, true, 0x2222, 22);
	CHECK(fake.host_changed_calls == 0, "still waiting for CONFIG across a link loss");
	struct proto_control moved = config_msg(65520, 7);
	feed(&s, &moved, 23);
	CHECK(fake.host_changed_calls == 1, "once, at the new host's CONFIG (%u)", fake.host_changed_calls);
	CHECK(fake.configured_at_host_changed, "with the session configured: the pokes' answers can go out");
	CHECK(fake.host_changed_previous && fake.host_changed_previous_last == 2 && fake.host_changed_current_last == 7,
	      "the old host's addresses and the new one's");
	feed(&s, &moved, 24);
	CHECK(fake.host_changed_calls == 1, "and not again for the same host");

	/* An unchanged CONFIG from a new host still ends the old host's connections. */
	feed_host_hello(&s, true, 0x3333, 30);
	feed(&s, &moved, 31);
	CHECK(fake.host_changed_calls == 2, "an unchanged CONFIG counts too (%u)", fake.host_changed_calls);

	/* A host that says no instance (an older qbnet) tells nothing, and is not taken for a new one. */
	feed_host_hello(&s, false, 0, 40);
	feed(&s, &moved, 41);
	feed_host_hello(&s, true, 0x3333, 42);
	feed(&s, &moved, 43);
	CHECK(fake.host_changed_calls == 2, "no instance: no change either way (%u)", fake.host_changed_calls);

	/* A daemon that never applied a CONFIG before the new host gives no previous addresses. */
	struct session fresh;
	memset(&fake, 0, sizeof(fake));
	session_init(&fresh, &params, &hooks, NULL);
	current_session = &fresh;
	session_link_up(&fresh, 0);
	feed_host_hello(&fresh, true, 0x1111, 1);
	feed_host_hello(&fresh, true, 0x2222, 2);
	feed(&fresh, &config, 3);
	CHECK(fake.host_changed_calls == 1 && !fake.host_changed_previous, "no previous configuration");
	current_session = NULL;
}

int main(void)
{
	/* First: each call site's limit is static, shared by the whole run. */
	test_log_rate_limit();
	test_usb_requests();
	log_set_level(LOG_LEVEL_ERROR);
	test_negotiate();
	test_hello_and_config();
	test_mtu_clamp();
	test_incompatible();
	test_liveness();
	test_offload();
	test_host_instance();
	return checks_report("test_session");
}
