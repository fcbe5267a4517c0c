/* Ending the TCP connections a host driver that is gone carried (PROTOCOL.md
 * section 4, INSTANCE; doc/DESIGN.md "A restarted host driver ends the
 * board's old connections"): sock_diag finds the board's TCP sockets on qb0's
 * addresses and destroys each (SOCK_DESTROY, as `ss -K` does), so their
 * applications get an error at once. A kernel without CONFIG_INET_DIAG_DESTROY
 * gets each one poked instead: a segment from its peer, outside its window,
 * that the board's TCP answers with an ACK; the new host knows no such flow and
 * answers that with a reset. Requests, reply parsing and the poke are pure
 * (test_sockkill, fuzz_sockkill); sockkill_run does the I/O. */
#ifndef QB_SOCKKILL_H
#define QB_SOCKKILL_H

#include <linux/inet_diag.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOCKKILL_ADDRS_MAX 4
/* Connections ended in one run at most (a board has nowhere near as many). */
#define SOCKKILL_MAX 16384
/* Room for one request (netlink header + inet_diag_req_v2). */
#define SOCKKILL_REQUEST_MAX 128
/* The largest poke: an IPv6 header and a bare TCP header. */
#define SOCKKILL_POKE_MAX 60

/* TCP states with a peer to lose: ESTABLISHED, FIN_WAIT1/2, CLOSE_WAIT, LAST_ACK
 * and CLOSING. Not LISTEN, TIME_WAIT or CLOSE; not SYN_SENT (a connect in
 * progress retries its SYN, which the new host serves) nor a half-open SYN_RECV. */
#define SOCKKILL_STATES                                                              \
	((1u << 1) | (1u << 4) | (1u << 5) | (1u << 8) | (1u << 9) | (1u << 11))

/* qb0's addresses: IPv4 (4 bytes) and IPv6 (16). */
struct sockkill_addrs {
	unsigned count;
	struct {
		uint8_t family;
		uint8_t addr[16];
	} addr[SOCKKILL_ADDRS_MAX];
};

/* Adds an address once; false when it is new and there is no room. */
bool sockkill_addrs_add(struct sockkill_addrs *addrs, uint8_t family, const uint8_t *addr);

/* The dump of a family's TCP sockets in SOCKKILL_STATES; returns its length, 0 if cap is too small. */
size_t sockkill_dump_request(uint8_t *buf, size_t cap, uint8_t family, uint32_t seq);

/* SOCK_DESTROY for one socket of a dump (by its full id, cookie included). */
size_t sockkill_destroy_request(uint8_t *buf, size_t cap, const struct inet_diag_msg *sock,
				uint32_t seq);

enum sockkill_status {
	SOCKKILL_MORE,		/* the answer goes on in the next datagram */
	SOCKKILL_DONE,
	SOCKKILL_FAILED,	/* *error says why: a negative errno, -EBADMSG when malformed */
};

/* Whether a socket of a dump is one to end: its source is one of addrs (an
 * IPv4 one also as ::ffff:a.b.c.d), its peer is not (a connection to the
 * board itself never went through the host). */
bool sockkill_matches(const struct inet_diag_msg *sock, const struct sockkill_addrs *addrs);

/* One datagram of dump replies to request seq: found() is called for each
 * socket to end. Replies to other requests are skipped. */
enum sockkill_status sockkill_parse_dump(const uint8_t *buf, size_t len, uint32_t seq,
					 const struct sockkill_addrs *addrs,
					 void (*found)(void *ctx, const struct inet_diag_msg *sock),
					 void *ctx, int *error);

/* The kernel's answer to SOCK_DESTROY request seq: DONE with *error 0 or a
 * negative errno; MORE when the datagram holds no answer to seq. */
enum sockkill_status sockkill_parse_ack(const uint8_t *buf, size_t len, uint32_t seq, int *error);

/* A bare ACK from the socket's peer to the socket with sequence number seq,
 * checksummed, as the TUN would get it from the host (IPv4 for an IPv4 or
 * v4-mapped socket); its length, 0 if cap is too small. */
size_t sockkill_poke(uint8_t *buf, size_t cap, const struct inet_diag_msg *sock, uint32_t seq);

struct sockkill_report {
	unsigned found;
	unsigned destroyed;
	unsigned poked;
	unsigned gone;		/* closed by themselves meanwhile */
	int destroy_error;	/* why SOCK_DESTROY was given up (-EOPNOTSUPP: no CONFIG_INET_DIAG_DESTROY), or 0 */
	int error;		/* a dump that failed, or 0 */
};

/* Packets into the board's stack (the TUN); false when it was not taken. */
typedef bool (*sockkill_inject_fn)(void *ctx, const uint8_t *packet, size_t len);

/* Ends the TCP connections on addrs: destroyed, or with destroy false (or a
 * kernel that refuses) poked through inject. Blocks for the netlink round
 * trips only (each receive at most a second). */
void sockkill_run(const struct sockkill_addrs *addrs, bool destroy, sockkill_inject_fn inject,
		  void *ctx, struct sockkill_report *report);

/* sockkill_run for a new host driver, with its log lines. QBNETD_TEST_SOCK_DESTROY=off
 * (tests only) makes it act as on a kernel without CONFIG_INET_DIAG_DESTROY. */
void sockkill_end_old_connections(const struct sockkill_addrs *addrs, sockkill_inject_fn inject,
				  void *ctx);

#endif
