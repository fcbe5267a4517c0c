/* Linux native AIO's io_getevents through the raw system call (no libaio),
 * with the timeout in the layout the kernel reads, whatever time_t the C
 * library uses (armhf with -D_TIME_BITS=64 has a 64-bit time_t, but the
 * kernel's io_getevents on 32-bit ABIs still takes two 32-bit longs). */
#ifndef QB_AIO_H
#define QB_AIO_H

#include <linux/aio_abi.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__ILP32__)
#error "x32: io_getevents takes a 64-bit timespec there; build for x86-64 or i386"
#endif

#ifdef __NR_io_getevents
/* The kernel's __kernel_old_timespec: io_getevents is io_getevents_time32
 * (old_timespec32) on 32-bit ABIs and takes __kernel_timespec on 64-bit
 * ones; both are two longs. Not struct timespec: its time_t may be 64-bit
 * on a 32-bit ABI. */
struct aio_timeout {
	long tv_sec;
	long tv_nsec;
};
#define AIO_TIMEOUT_SYSCALL "io_getevents"
#else
/* 32-bit ABIs born after 2038-safety (riscv32, ...) have no io_getevents,
 * only io_pgetevents_time64 with __kernel_timespec: two 64-bit fields. */
struct aio_timeout {
	long long tv_sec;
	long long tv_nsec;
};
#define AIO_TIMEOUT_SYSCALL "io_pgetevents_time64"
#endif

static inline struct aio_timeout aio_timeout_ms(unsigned ms)
{
	struct aio_timeout timeout = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	return timeout;
}

/* io_getevents: up to max completions, waiting for at least min of them
 * until timeout (NULL: no limit). The count, or -1 with errno. */
static inline long aio_getevents(aio_context_t ctx, long min, long max, struct io_event *events,
				 const struct aio_timeout *timeout)
{
#ifdef __NR_io_getevents
	return syscall(__NR_io_getevents, ctx, min, max, events, timeout);
#else
	return syscall(__NR_io_pgetevents_time64, ctx, min, max, events, timeout, NULL);
#endif
}

#endif
