/* Board session state machine: answers host HELLOs, negotiates the version,
 * applies CONFIG idempotently, sends KEEPALIVEs and detects a silent host. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "session.h"
#include "stats.h"

void session_init(struct session *session, const struct session_params *params,
		  const struct session_hooks *hooks, void *ctx)
{
	memset(session, 0, sizeof(*session));
	session->params = *params;
	session->hooks = hooks;
	session->ctx = ctx;
	session->state = SESSION_DOWN;
}

uint16_t session_negotiate(uint16_t our_min, uint16_t our_max, uint16_t peer_min,
			   uint16_t peer_max)
{
	uint16_t low = our_min > peer_min ? our_min : peer_min;
	uint16_t high = our_max < peer_max ? our_max : peer_max;

	return low <= high ? high : 0;
}

/* Copies a peer string for logging, replacing anything not printable. */
static void printable(const char *in, size_t len, char *out, size_t out_size)
{
	size_t i;

	for (i = 0; i < len && i + 1 < out_size; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

static void send_control(struct session *session, const struct proto_control *msg)
{
	uint8_t payload[PROTO_CONTROL_MAX];
	size_t len = proto_control_encode(msg, payload, sizeof(payload));

	if (len && session->hooks->send_control(session->ctx, payload, len)) {
		stats.control_tx++;
		debug("sent %s", proto_control_type_name(msg->type));
	} else {
		stats.control_tx_dropped++;
		debug("could not send %s", proto_control_type_name(msg->type));
	}
}

static void build_hello(const struct session *session, struct proto_control *msg)
{
	struct proto_hello *hello = &msg->hello;

	memset(msg, 0, sizeof(*msg));
	msg->type = PROTO_HELLO;

	hello->version_min = PROTO_VERSION_MIN;
	hello->version_max = PROTO_VERSION_MAX;
	hello->role = PROTO_ROLE_BOARD;
	hello->max_bundle = session->params.max_bundle;
	hello->has_mtu = true;
	hello->mtu = session->params.mtu_max;
	hello->serial_len = (uint8_t)snprintf(hello->serial, sizeof(hello->serial), "%s",
					      session->params.serial);
	hello->software_len = (uint8_t)snprintf(hello->software, sizeof(hello->software), "%s",
						session->params.software);
	hello->has_caps = true;
	hello->caps = session->params.caps;
}

size_t session_hello_payload(const struct session *session, uint8_t *buf, size_t cap)
{
	struct proto_control msg;

	build_hello(session, &msg);
	return proto_control_encode(&msg, buf, cap);
}

static void send_hello(struct session *session)
{
	struct proto_control msg;

	build_hello(session, &msg);
	send_control(session, &msg);
}

static void send_error(struct session *session, uint16_t code, const char *text)
{
	struct proto_control msg = { .type = PROTO_ERROR };
	snprintf(msg.error.text, sizeof(msg.error.text), "%s", text);
	msg.error.code = code;
	msg.error.has_text = true;
	msg.error.text_len = (uint16_t)strlen(msg.error.text);
	send_control(session, &msg);
}

static void send_keepalive(struct session *session, bool is_echo, uint32_t echo)
{
	struct proto_control msg = { .type = PROTO_KEEPALIVE };

	msg.keepalive.seq = session->seq++;
	msg.keepalive.has_echo = is_echo;
	msg.keepalive.echo = echo;
	send_control(session, &msg);
}

static void peer_changed(struct session *session)
{
	if (session->hooks->peer_changed)
		session->hooks->peer_changed(session->ctx);
}

/* Nothing is known about the host until its HELLO: no offload. */
static void forget_peer(struct session *session)
{
	session->peer_hello = false;
	session->peer_caps = 0;
	session->offload = false;
	peer_changed(session);
}

void session_link_up(struct session *session, uint64_t now)
{
	session->state = SESSION_WAIT_CONFIG;
	forget_peer(session);
	session->last_rx_ms = now;
	session->last_tx_ms = now;
	send_hello(session);
}

void session_restart(struct session *session, uint64_t now)
{
	if (session->state == SESSION_CONFIGURED)
		info_limited("host restarted the session (RESET_LINK): keeping the current addresses until its CONFIG");
	session_link_up(session, now);
}

void session_link_down(struct session *session)
{
	session->state = SESSION_DOWN;
	forget_peer(session);
}

void session_bundle_received(struct session *session, uint64_t now)
{
	session->last_rx_ms = now;
}

void session_bundle_sent(struct session *session, uint64_t now)
{
	session->last_tx_ms = now;
}

/* A HELLO from another host driver process than the last (not the same one
 * after a link loss, which keeps the board's flows for it): its CONFIG will
 * end the connections the old one carried. A host without INSTANCE tells
 * nothing. The first host this daemon sees is not "another". */
static void note_instance(struct session *session, const struct proto_hello *hello)
{
	if (!hello->has_instance)
		return;
	if (session->host_known && hello->instance != session->host_instance) {
		info_limited("a new host driver (instance %016llx, was %016llx): the old one's connections end once it configures us",
			     (unsigned long long)hello->instance, (unsigned long long)session->host_instance);
		session->host_changed = true;
		session->had_config = session->applied;
		if (session->applied)
			session->previous_config = session->config;
	}
	session->host_known = true;
	session->host_instance = hello->instance;
}

/* The new host's CONFIG is in effect: what the old host carried can go. */
static void end_old_host(struct session *session)
{
	if (!session->host_changed)
		return;
	session->host_changed = false;
	if (session->hooks->host_changed)
		session->hooks->host_changed(session->ctx,
					     session->had_config ? &session->previous_config : NULL,
					     &session->config);
}

static void handle_hello(struct session *session, const struct proto_hello *hello)
{
	char software[PROTO_STRING_MAX + 1], text[PROTO_ERROR_TEXT_MAX + 1];

	if (hello->role != PROTO_ROLE_HOST) {
		warn_limited("received a HELLO with role board: the other end must be the host driver qbnet");
		send_error(session, PROTO_ERR_VIOLATION,
			   "HELLO with role board sent to a board; qbnetd talks to the host driver qbnet");
		return;
	}
	printable(hello->software, hello->software_len, software, sizeof(software));
	uint16_t version = session_negotiate(PROTO_VERSION_MIN, PROTO_VERSION_MAX,
					     hello->version_min, hello->version_max);
	info_limited("HELLO from host: software '%s', protocol %u-%u, max bundle %u, caps 0x%x",
		     hello->software_len ? software : "unknown", hello->version_min,
		     hello->version_max, hello->max_bundle, hello->caps);

	/* Every host HELLO gets a HELLO back, even an incompatible one. */
	send_hello(session);
	if (!version) {
		snprintf(text, sizeof(text),
			 "no common protocol version: board speaks %u-%u, host speaks %u-%u",
			 PROTO_VERSION_MIN, PROTO_VERSION_MAX, hello->version_min,
			 hello->version_max);
		send_error(session, PROTO_ERR_VERSION, text);
		err_limited("%s: update the older of qbnetd and qbnet", text);
		session->state = SESSION_INCOMPATIBLE;
		forget_peer(session);
		return;
	}
	if (session->state == SESSION_CONFIGURED)
		info_limited("host restarted the session: keeping the current addresses until its CONFIG");
	note_instance(session, hello);
	session->version = version;
	session->peer_hello = true;
	session->peer_max_bundle = hello->max_bundle;
	session->peer_caps = hello->caps;
	session->state = SESSION_WAIT_CONFIG;
	session->offload = session->params.caps & hello->caps & PROTO_CAP_OFFLOAD;
	peer_changed(session);
}

static void handle_config(struct session *session, const struct proto_config *config)
{
	char cause[PROTO_ERROR_TEXT_MAX + 1];

	if (session->state == SESSION_INCOMPATIBLE) {
		debug("CONFIG ignored: no common protocol version");
		return;
	}
	/* A packet of the TUN's MTU must fit in one bundle to the host. */
	uint32_t mtu = config->mtu;
	uint32_t fits = session_tx_limit(session) - PROTO_BUNDLE_HDR_LEN - PROTO_FRAME_HDR_LEN;
	if (mtu > session->params.mtu_max)
		mtu = session->params.mtu_max;
	if (mtu > fits) {
		warn_limited("CONFIG MTU %u does not fit the host's bundle limit %u: using MTU %u",
			     config->mtu, session_tx_limit(session), fits);
		mtu = fits;
	}

	if (session->applied && session->mtu == mtu &&
	    proto_config_equal(&session->config, config)) {
		debug("CONFIG unchanged");
		session->state = SESSION_CONFIGURED;
		end_old_host(session);
		return;
	}
	cause[0] = '\0';
	if (session->hooks->apply_config(session->ctx, config, (uint16_t)mtu, cause,
					 sizeof(cause)) < 0) {
		if (!cause[0])
			snprintf(cause, sizeof(cause), "unknown failure");
		err_limited("cannot apply CONFIG: %s", cause);
		send_error(session, PROTO_ERR_CONFIG, cause);
		session->applied = false;
		session->state = SESSION_WAIT_CONFIG;
		return;
	}
	session->config = *config;
	session->mtu = (uint16_t)mtu;
	session->applied = true;
	session->state = SESSION_CONFIGURED;
	end_old_host(session);
}

static void handle_error(const struct proto_error *error)
{
	char text[PROTO_ERROR_TEXT_MAX + 1];

	printable(error->text, error->text_len, text, sizeof(text));
	if (error->code == PROTO_ERR_VERSION)
		err_limited("host reported ERROR 1 (%s): %s: update the older of qbnetd and qbnet",
			    proto_error_code_name(error->code), text);
	else
		warn_limited("host reported ERROR %u (%s): %s", error->code,
			     proto_error_code_name(error->code), text);
}

void session_control(struct session *session, const uint8_t *payload, size_t len,
		     uint64_t now)
{
	struct proto_control msg;
	enum proto_control_status status = proto_control_decode(payload, len, &msg);

	(void)now;
	stats.control_rx++;
	if (status == PROTO_CONTROL_UNKNOWN_TYPE) {
		stats.control_unknown_type++;
		debug("ignored control message of unknown type %u", msg.type);
		return;
	}
	if (status == PROTO_CONTROL_MALFORMED) {
		stats.control_malformed++;
		warn_limited("dropped a malformed %s message (%zu bytes)",
			     proto_control_type_name(msg.type), len);
		if (msg.type == PROTO_CONFIG && session->state != SESSION_INCOMPATIBLE)
			send_error(session, PROTO_ERR_MALFORMED, "malformed CONFIG");
		return;
	}
	switch (msg.type) {
	case PROTO_HELLO:
		handle_hello(session, &msg.hello);
		break;
	case PROTO_CONFIG:
		handle_config(session, &msg.config);
		break;
	case PROTO_KEEPALIVE:
		if (msg.keepalive.has_echo)
			debug("KEEPALIVE reply seq %u echo %u", msg.keepalive.seq,
			      msg.keepalive.echo);
		else if (session->state != SESSION_INCOMPATIBLE)
			send_keepalive(session, true, msg.keepalive.seq);
		break;
	case PROTO_ERROR:
		handle_error(&msg.error);
		break;
	}
}

int session_timeout_ms(const struct session *session, uint64_t now)
{
	if (session->state == SESSION_DOWN)
		return -1;
	uint64_t deadline = session->last_rx_ms + SESSION_PEER_TIMEOUT_MS;
	if (session->state != SESSION_INCOMPATIBLE &&
	    session->last_tx_ms + SESSION_KEEPALIVE_MS < deadline)
		deadline = session->last_tx_ms + SESSION_KEEPALIVE_MS;
	if (deadline <= now)
		return 0;
	return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

void session_tick(struct session *session, uint64_t now)
{
	if (session->state == SESSION_DOWN)
		return;
	if (now - session->last_rx_ms >= SESSION_PEER_TIMEOUT_MS) {
		stats.peer_timeouts++;
		session->state = SESSION_DOWN;
		forget_peer(session);
		session->hooks->peer_lost(session->ctx, "no bundle from the host for 5 s");
		return;
	}
	if (session->state != SESSION_INCOMPATIBLE &&
	    now - session->last_tx_ms >= SESSION_KEEPALIVE_MS) {
		stats.keepalive_tx++;
		send_keepalive(session, false, 0);
		/* Even if it could not be sent: try again in a second, not now. */
		session->last_tx_ms = now;
	}
}

bool session_configured(const struct session *session)
{
	return session->state == SESSION_CONFIGURED;
}

uint32_t session_tx_limit(const struct session *session)
{
	return session->peer_hello ? session->peer_max_bundle : PROTO_BUNDLE_PRE_HELLO;
}

uint16_t session_tun_mtu(const struct session *session)
{
	return session->mtu;
}

uint16_t session_config_mtu(const struct session *session)
{
	return session->config.mtu;
}

bool session_offload(const struct session *session)
{
	return session->offload;
}
