/* The board side of the qbnet session (doc/PROTOCOL.md section 4): HELLO and
 * version negotiation, CONFIG, KEEPALIVE/liveness, ERROR. No I/O: it talks to
 * the rest of the daemon through hooks, and is given the time. */
#ifndef QB_SESSION_H
#define QB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define SESSION_KEEPALIVE_MS 1000u
#define SESSION_PEER_TIMEOUT_MS 5000u

struct session_hooks {
	/* Sends one control message (a channel-0 payload); false if dropped. */
	bool (*send_control)(void *ctx, const uint8_t *payload, size_t len);
	/* Applies a CONFIG with the given (possibly clamped) MTU; on failure
	 * returns -1 and writes the cause into err. */
	int (*apply_config)(void *ctx, const struct proto_config *config, uint16_t mtu,
			    char *err, size_t err_len);
	/* The host has been silent too long: drop the link. */
	void (*peer_lost)(void *ctx, const char *reason);
	/* What the session knows of the host may have changed: called on every
	 * host HELLO (compatible or not), link up and down, RESET_LINK and a
	 * silent host. The data path recomputes everything it derives from
	 * session_offload() and session_tx_limit() (TUN offloads, bundle room),
	 * as netdev_update_features() does, never only on one path. Optional. */
	void (*peer_changed)(void *ctx);
	/* Another host driver than before (its HELLO's INSTANCE changed) has
	 * configured us: the connections the old one carried are dead. previous:
	 * the old host's configuration (NULL when none was applied), current: the
	 * new one's. Optional. */
	void (*host_changed)(void *ctx, const struct proto_config *previous,
			     const struct proto_config *current);
};

struct session_params {
	uint32_t max_bundle;	/* what we advertise and accept */
	uint16_t mtu_max;	/* largest MTU the TUN supports */
	uint32_t caps;
	const char *serial;
	const char *software;
};

enum session_state {
	SESSION_DOWN,		/* no link */
	SESSION_WAIT_CONFIG,	/* link up, HELLO sent, not configured */
	SESSION_CONFIGURED,	/* moving IP frames */
	SESSION_INCOMPATIBLE,	/* no common version: only HELLO replies */
};

struct session {
	struct session_params params;
	const struct session_hooks *hooks;
	void *ctx;
	enum session_state state;
	bool peer_hello;	/* a compatible host HELLO arrived on this link */
	uint16_t version;
	uint32_t peer_max_bundle;
	uint32_t peer_caps;
	bool offload;		/* both HELLOs of this session carry CAPS bit 1 */
	bool applied;		/* config/mtu below are in effect */
	struct proto_config config;
	uint16_t mtu;
	uint32_t seq;
	uint64_t last_tx_ms;
	uint64_t last_rx_ms;
	bool host_known;	/* a host HELLO with an INSTANCE came (this daemon's life) */
	uint64_t host_instance;	/* the last one */
	bool host_changed;	/* a new instance since: its first CONFIG ends the old one's connections */
	bool had_config;	/* previous_config holds the configuration of the host before it */
	struct proto_config previous_config;
};

void session_init(struct session *session, const struct session_params *params,
		  const struct session_hooks *hooks, void *ctx);
void session_link_up(struct session *session, uint64_t now);
void session_link_down(struct session *session);
/* The host asked for a fresh session (USB RESET_LINK): as for a host HELLO,
 * HELLO is sent and CONFIG awaited; the TUN and addresses stay. */
void session_restart(struct session *session, uint64_t now);
/* The board's HELLO control payload (USB GET_INFO); its length, 0 if cap is
 * too small. */
size_t session_hello_payload(const struct session *session, uint8_t *buf, size_t cap);
/* Liveness bookkeeping: any bundle received / sent. */
void session_bundle_received(struct session *session, uint64_t now);
void session_bundle_sent(struct session *session, uint64_t now);
/* Handles one channel-0 frame payload. */
void session_control(struct session *session, const uint8_t *payload, size_t len,
		     uint64_t now);
/* Milliseconds until session_tick() has work, or -1 for none. */
int session_timeout_ms(const struct session *session, uint64_t now);
void session_tick(struct session *session, uint64_t now);

bool session_configured(const struct session *session);
/* Largest bundle we may send: 16384 before the host's HELLO. */
uint32_t session_tx_limit(const struct session *session);
/* MTU of the TUN (CONFIG's, clamped to what a bundle can carry). */
uint16_t session_tun_mtu(const struct session *session);
/* MTU the host configured: the limit for IP frames it sends. */
uint16_t session_config_mtu(const struct session *session);
/* Offload is in use: our HELLO and this session's host HELLO carry CAPS bit 1. */
bool session_offload(const struct session *session);

/* Highest version in both ranges, 0 when they do not overlap. */
uint16_t session_negotiate(uint16_t our_min, uint16_t our_max, uint16_t peer_min,
			   uint16_t peer_max);

#endif
