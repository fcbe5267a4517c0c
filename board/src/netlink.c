/* rtnetlink transport: a blocking NETLINK_ROUTE socket with a receive
 * timeout (the kernel answers at once), sequence-matched ACKs and dumps. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "netlink.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define NL_RECV_MAX 65536

static uint32_t next_seq = 1;

int nl_open(char *err, size_t err_len)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK };
	struct timeval timeout = { .tv_sec = 2 };
	int one = 1;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0) {
		snprintf(err, err_len, "cannot open a netlink socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		snprintf(err, err_len, "cannot bind a netlink socket: %s", strerror(errno));
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	/* Best effort: kernel error texts, and ACKs without the request echoed. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return fd;
}

void *nl_request_init(struct nl_request *req, uint16_t type, uint16_t flags,
		      size_t header_len)
{
	memset(req, 0, sizeof(*req));
	req->hdr.nlmsg_len = (uint32_t)NLMSG_LENGTH(header_len);
	req->hdr.nlmsg_type = type;
	req->hdr.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	return NLMSG_DATA(&req->hdr);
}

bool nl_put_attr(struct nl_request *req, uint16_t type, const void *data, size_t len)
{
	size_t offset = NLMSG_ALIGN(req->hdr.nlmsg_len);
	size_t attr_len = NLA_HDRLEN + len;

	if (offset + NLA_ALIGN(attr_len) > sizeof(req->bytes))
		return false;
	struct nlattr *attr = (struct nlattr *)(req->bytes + offset);
	attr->nla_type = type;
	attr->nla_len = (uint16_t)attr_len;
	if (len)
		memcpy(req->bytes + offset + NLA_HDRLEN, data, len);
	req->hdr.nlmsg_len = (uint32_t)(offset + NLA_ALIGN(attr_len));
	return true;
}

bool nl_put_u32(struct nl_request *req, uint16_t type, uint32_t value)
{
	return nl_put_attr(req, type, &value, sizeof(value));
}

static int nl_send(int fd, struct nl_request *req)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	req->hdr.nlmsg_seq = next_seq++;
	if (sendto(fd, req->bytes, req->hdr.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

/* Copies NLMSGERR_ATTR_MSG from an extended ACK, if there is one. */
static void ext_ack_message(const struct nlmsghdr *msg, char *err, size_t err_len)
{
	const struct nlmsgerr *error = nl_payload(msg);
	size_t offset = NLMSG_HDRLEN + sizeof(*error);

	if (!(msg->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(msg->nlmsg_flags & NLM_F_CAPPED))
		offset += error->msg.nlmsg_len > NLMSG_HDRLEN ?
			  NLMSG_ALIGN(error->msg.nlmsg_len - NLMSG_HDRLEN) : 0;
	while (offset + NLA_HDRLEN <= msg->nlmsg_len) {
		const struct nlattr *attr = (const struct nlattr *)((const uint8_t *)msg + offset);
		if (attr->nla_len < NLA_HDRLEN || offset + attr->nla_len > msg->nlmsg_len)
			return;
		if (attr->nla_type == NLMSGERR_ATTR_MSG) {
			size_t len = attr->nla_len - NLA_HDRLEN;
			const char *text = (const char *)attr + NLA_HDRLEN;
			snprintf(err, err_len, "%.*s", (int)strnlen(text, len), text);
			return;
		}
		offset += NLA_ALIGN(attr->nla_len);
	}
}

int nl_walk(const void *buf, size_t len, uint32_t seq, uint32_t port,
	    void (*cb)(const struct nlmsghdr *msg, void *ctx), void *ctx, bool *interrupted,
	    char *err, size_t err_len)
{
	/* NLMSG_OK/NLMSG_NEXT by hand: the macros cast away const. */
	for (const uint8_t *at = buf; len >= NLMSG_HDRLEN;) {
		const struct nlmsghdr *msg = (const struct nlmsghdr *)at;
		if (msg->nlmsg_len < NLMSG_HDRLEN || msg->nlmsg_len > len)
			break;
		size_t step = NLMSG_ALIGN(msg->nlmsg_len) < len ? NLMSG_ALIGN(msg->nlmsg_len) : len;
		at += step;
		len -= step;
		/* A late reply to an earlier request, or not a reply to us. */
		if (msg->nlmsg_seq != seq || msg->nlmsg_pid != port)
			continue;
		if (msg->nlmsg_flags & NLM_F_DUMP_INTR)
			*interrupted = true;
		if (msg->nlmsg_type == NLMSG_DONE)
			return 0;
		if (msg->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *error = nl_payload(msg);
			if (msg->nlmsg_len < NLMSG_LENGTH(sizeof(*error)))
				return -EPROTO;
			if (error->error && err)
				ext_ack_message(msg, err, err_len);
			return error->error;
		}
		if (cb)
			cb(msg, ctx);
	}
	return NL_WALK_MORE;
}

/* Our socket's port id: the kernel addresses its replies to it. */
static uint32_t nl_port(int fd)
{
	struct sockaddr_nl addr = { 0 };
	socklen_t len = sizeof(addr);

	if (getsockname(fd, (struct sockaddr *)&addr, &len))
		return 0;
	return addr.nl_pid;
}

/* Receives until the reply to seq is complete. For requests: the ACK. For
 * dumps: every message, then NLMSG_DONE. Only what the kernel (port 0)
 * sent to our port counts. */
static int nl_receive(int fd, uint32_t seq, void (*cb)(const struct nlmsghdr *, void *),
		      void *ctx, char *err, size_t err_len)
{
	static uint32_t buf[NL_RECV_MAX / sizeof(uint32_t)];
	uint32_t port = nl_port(fd);
	bool interrupted = false;

	for (;;) {
		struct sockaddr_nl from = { 0 };
		socklen_t from_len = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue; /* not from the kernel */
		int rc = nl_walk(buf, (size_t)n, seq, port, cb, ctx, &interrupted, err, err_len);
		if (rc != NL_WALK_MORE)
			return !rc && interrupted ? -EINTR : rc;
	}
}

int nl_transact(int fd, struct nl_request *req, char *err, size_t err_len)
{
	int rc;

	if (err && err_len)
		err[0] = '\0';
	req->hdr.nlmsg_flags |= NLM_F_ACK;
	rc = nl_send(fd, req);
	if (rc)
		return rc;
	return nl_receive(fd, req->hdr.nlmsg_seq, NULL, NULL, err, err_len);
}

int nl_dump(int fd, struct nl_request *req,
	    void (*cb)(const struct nlmsghdr *msg, void *ctx), void *ctx)
{
	int rc;

	req->hdr.nlmsg_flags |= NLM_F_DUMP;
	rc = nl_send(fd, req);
	if (rc)
		return rc;
	return nl_receive(fd, req->hdr.nlmsg_seq, cb, ctx, NULL, 0);
}
