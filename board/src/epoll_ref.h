/* What an epoll event refers to: the owner (signals, TUN, link transport,
 * status socket) and the file descriptor, packed into epoll_event.data.u64. */
#ifndef QB_EPOLL_REF_H
#define QB_EPOLL_REF_H

#include <stdint.h>

enum epoll_owner {
	EPOLL_OWNER_SIGNAL = 1,
	EPOLL_OWNER_TUN = 2,
	EPOLL_OWNER_LINK = 3,
	EPOLL_OWNER_STATUS = 4,
};

static inline uint64_t epoll_ref(enum epoll_owner owner, int fd)
{
	return (uint64_t)owner << 32 | (uint32_t)fd;
}

static inline enum epoll_owner epoll_ref_owner(uint64_t ref)
{
	return (enum epoll_owner)(ref >> 32);
}

static inline int epoll_ref_fd(uint64_t ref)
{
	return (int)(uint32_t)ref;
}

#endif
