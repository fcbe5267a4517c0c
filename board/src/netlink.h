/* A minimal rtnetlink client: build one request with attributes, send it,
 * wait for its ACK (with the kernel's extended error text), or run a dump. */
#ifndef QB_NETLINK_H
#define QB_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#define NL_REQUEST_MAX 2048

struct nl_request {
	union {
		struct nlmsghdr hdr;
		uint8_t bytes[NL_REQUEST_MAX];
	};
};

/* The family header after a message's nlmsghdr (NLMSG_DATA, const-clean). */
static inline const void *nl_payload(const struct nlmsghdr *msg)
{
	return (const uint8_t *)msg + NLMSG_HDRLEN;
}

/* Opens a NETLINK_ROUTE socket; -1 with err set on failure. */
int nl_open(char *err, size_t err_len);

/* Starts a request of the given type and flags (NLM_F_REQUEST is added);
 * returns the zeroed family header of header_len bytes (ifaddrmsg, ...). */
void *nl_request_init(struct nl_request *req, uint16_t type, uint16_t flags,
		      size_t header_len);
bool nl_put_attr(struct nl_request *req, uint16_t type, const void *data, size_t len);
bool nl_put_u32(struct nl_request *req, uint16_t type, uint32_t value);

/* Sends req and waits for its ACK: 0, or a negative errno with the kernel's
 * message (if any) in err. */
int nl_transact(int fd, struct nl_request *req, char *err, size_t err_len);

/* Sends a dump request and calls cb for every reply message; 0 or -errno.
 * -EINTR: the kernel marked the dump NLM_F_DUMP_INTR (the table changed
 * while it was dumped, so the messages may be inconsistent): start over. */
int nl_dump(int fd, struct nl_request *req,
	    void (*cb)(const struct nlmsghdr *msg, void *ctx), void *ctx);

/* One received buffer of replies to request seq on our port (pure, for
 * tests): messages for another sequence number or port are skipped; cb gets
 * the rest. NL_WALK_MORE: not complete yet. 0: NLMSG_DONE or an ACK.
 * <0: the ACK's error (its extended text in err), or -EPROTO. Sets
 * *interrupted when a message carries NLM_F_DUMP_INTR. */
#define NL_WALK_MORE 1
int nl_walk(const void *buf, size_t len, uint32_t seq, uint32_t port,
	    void (*cb)(const struct nlmsghdr *msg, void *ctx), void *ctx, bool *interrupted,
	    char *err, size_t err_len);

#endif
