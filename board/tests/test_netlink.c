/* Unit tests of the rtnetlink reply walk (src/netlink.c nl_walk): only
 * replies to our request (its sequence number and our port id) count, a
 * dump the kernel marks NLM_F_DUMP_INTR (the table changed while it was
 * dumped) is reported as interrupted, and ACKs carry their error. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "check.h"
#include "netlink.h"

CHECKS_DEFINE;

#define SEQ 7
#define PORT 4242

static union {
	struct nlmsghdr align;
	uint8_t bytes[4096];
} buf;
static size_t used;

static void add(uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid, int error)
{
	struct nlmsghdr *msg = (struct nlmsghdr *)(buf.bytes + used);
	size_t payload = type == NLMSG_ERROR ? sizeof(struct nlmsgerr) :
			 type == NLMSG_DONE ? sizeof(int) : sizeof(struct rtmsg);

	memset(msg, 0, NLMSG_SPACE(payload));
	msg->nlmsg_len = (uint32_t)NLMSG_LENGTH(payload);
	msg->nlmsg_type = type;
	msg->nlmsg_flags = flags;
	msg->nlmsg_seq = seq;
	msg->nlmsg_pid = pid;
	if (type == NLMSG_ERROR)
		((struct nlmsgerr *)NLMSG_DATA(msg))->error = error;
	used += NLMSG_SPACE(payload);
}

static unsigned seen;

static void count(const struct nlmsghdr *msg, void *ctx)
{
	(void)msg;
	(void)ctx;
	seen++;
}

static int walk(bool *interrupted)
{
	seen = 0;
	*interrupted = false;
	return nl_walk(buf.bytes, used, SEQ, PORT, count, NULL, interrupted, NULL, 0);
}

static void test_walk(void)
{
	bool interrupted;

	used = 0;
	add(RTM_NEWROUTE, NLM_F_MULTI, SEQ, PORT, 0);
	add(RTM_NEWROUTE, NLM_F_MULTI, SEQ, PORT, 0);
	CHECK(walk(&interrupted) == NL_WALK_MORE && seen == 2 && !interrupted,
	      "two routes, dump not finished: %u seen", seen);
	add(NLMSG_DONE, NLM_F_MULTI, SEQ, PORT, 0);
	CHECK(walk(&interrupted) == 0 && seen == 2 && !interrupted, "DONE ends the dump");

	used = 0;
	add(RTM_NEWROUTE, NLM_F_MULTI, SEQ, PORT + 1, 0);
	add(RTM_NEWROUTE, NLM_F_MULTI, SEQ + 1, PORT, 0);
	add(NLMSG_DONE, NLM_F_MULTI, SEQ, PORT + 1, 0);
	add(NLMSG_ERROR, 0, SEQ, PORT + 1, -EPERM);
	CHECK(walk(&interrupted) == NL_WALK_MORE && seen == 0,
	      "replies for another port or sequence are ignored, even DONE and ERROR: %u seen",
	      seen);

	used = 0;
	add(RTM_NEWROUTE, NLM_F_MULTI, SEQ, PORT, 0);
	add(RTM_NEWROUTE, NLM_F_MULTI | NLM_F_DUMP_INTR, SEQ, PORT, 0);
	add(NLMSG_DONE, NLM_F_MULTI, SEQ, PORT, 0);
	CHECK(walk(&interrupted) == 0 && interrupted, "NLM_F_DUMP_INTR on a message: interrupted");
	used = 0;
	add(NLMSG_DONE, NLM_F_MULTI | NLM_F_DUMP_INTR, SEQ, PORT, 0);
	CHECK(walk(&interrupted) == 0 && interrupted, "NLM_F_DUMP_INTR on DONE: interrupted");

	used = 0;
	add(NLMSG_ERROR, 0, SEQ, PORT, 0);
	CHECK(walk(&interrupted) == 0, "ACK");
	used = 0;
	add(NLMSG_ERROR, 0, SEQ, PORT, -EEXIST);
	CHECK(walk(&interrupted) == -EEXIST, "ACK with an error");
	used = 0;
	add(NLMSG_ERROR, 0, SEQ, PORT, 0);
	((struct nlmsghdr *)buf.bytes)->nlmsg_len = NLMSG_LENGTH(2);
	CHECK(walk(&interrupted) == -EPROTO, "a truncated ACK");
}

int main(void)
{
	test_walk();
	return checks_report("test_netlink");
}
