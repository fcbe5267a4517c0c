/* sd_notify(3) in a few lines: one AF_UNIX datagram socket, the address
 * from $NOTIFY_SOCKET ('@' = abstract namespace: a leading NUL and no
 * trailing one), messages sent with MSG_NOSIGNAL and never waited for; and
 * the pid file. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "state.h"

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_addr_len;

void notify_init(void)
{
	const char *value = getenv("NOTIFY_SOCKET");
	size_t len = value ? strlen(value) : 0;

	notify_close();
	if (!value)
		return;
	if ((value[0] != '/' && value[0] != '@') || len < 2 || len > sizeof(notify_addr.sun_path) - 1) {
		warn("NOTIFY_SOCKET '%s' is not an absolute path or '@' abstract name: not notifying the service manager",
		     value);
		unsetenv("NOTIFY_SOCKET");
		return;
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, value, len);
	notify_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (value[0] == '@')
		notify_addr.sun_path[0] = '\0'; /* abstract: exactly len bytes */
	else
		notify_addr_len++; /* a path: with its NUL */
	unsetenv("NOTIFY_SOCKET");
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0)
		warn("cannot create the notification socket: %s: not notifying the service manager",
		     strerror(errno));
}

void notify(const char *fmt, ...)
{
	char message[512];
	va_list ap;

	if (notify_fd < 0)
		return;
	va_start(ap, fmt);
	int len = vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if ((size_t)len >= sizeof(message))
		len = sizeof(message) - 1;
	if (sendto(notify_fd, message, (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)&notify_addr,
		   notify_addr_len) < 0)
		debug("cannot notify the service manager: %s", strerror(errno));
}

void notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}

int pid_file_write(const char *path)
{
	char text[32];
	int len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());

	return state_write_mode(path, text, (size_t)len, 0644);
}

void pid_file_remove(const char *path)
{
	char *data = NULL;

	if (read_file(path, 64, &data) >= 0 && strtol(data, NULL, 10) == (long)getpid())
		state_remove(path);
	free(data);
}
