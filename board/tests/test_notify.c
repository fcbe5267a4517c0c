/* Unit tests of the service manager notification (src/notify.c): datagrams
 * reach a socket named by $NOTIFY_SOCKET as a path or as an '@' abstract
 * name, the variable is unset for children, unusable values are ignored,
 * and the pid file names us and is removed only while it does. */
#define _GNU_SOURCE
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "notify.h"
#include "state.h"

CHECKS_DEFINE;

static char dir[] = "/tmp/qbnetd-notify.XXXXXX";

/* A datagram socket bound to name ('@': abstract); returns the fd. */
static int listener(const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memcpy(addr.sun_path, name, len);
	socklen_t addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (name[0] == '@')
		addr.sun_path[0] = '\0';
	else
		addr_len++;
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, addr_len))
		return -1;
	return fd;
}

/* The next datagram within 1 s, or "" when none came. */
static const char *receive(int fd)
{
	static char text[600];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	text[0] = '\0';
	if (poll(&pfd, 1, 1000) == 1) {
		ssize_t n = recv(fd, text, sizeof(text) - 1, 0);
		text[n > 0 ? n : 0] = '\0';
	}
	return text;
}

static void test_socket(const char *name, const char *what)
{
	int fd = listener(name);

	CHECK(fd >= 0, "%s: listening on %s", what, name);
	setenv("NOTIFY_SOCKET", name, 1);
	notify_init();
	CHECK(!getenv("NOTIFY_SOCKET"), "%s: NOTIFY_SOCKET unset for children", what);
	notify("READY=1");
	CHECK(!strcmp(receive(fd), "READY=1"), "%s: READY=1 received", what);
	notify("STATUS=link up (%s)\nSTOPPING=1", "usb");
	CHECK(!strcmp(receive(fd), "STATUS=link up (usb)\nSTOPPING=1"), "%s: formatted lines", what);
	notify_close();
	notify("READY=1");
	CHECK(!receive(fd)[0], "%s: nothing after notify_close", what);
	close(fd);
}

static void test_sockets(void)
{
	char path[128], abstract[64];

	snprintf(path, sizeof(path), "%s/notify.sock", dir);
	test_socket(path, "path");
	snprintf(abstract, sizeof(abstract), "@qbnetd-test-notify-%ld", (long)getpid());
	test_socket(abstract, "abstract");
	unlink(path);

	/* Unusable values: no crash, nothing sent, still unset. */
	const char *bad[] = { "relative/path", "@", "vsock:2:1234", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("NOTIFY_SOCKET", bad[i], 1);
		notify_init();
		notify("READY=1");
		CHECK(!getenv("NOTIFY_SOCKET"), "'%s' ignored and unset", bad[i]);
	}
	char long_name[200];
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[0] = '/';
	long_name[sizeof(long_name) - 1] = '\0';
	setenv("NOTIFY_SOCKET", long_name, 1);
	notify_init();
	notify("READY=1");
	CHECK(!getenv("NOTIFY_SOCKET"), "a name longer than sun_path is ignored");
	unsetenv("NOTIFY_SOCKET");
	notify_init();
	notify("READY=1"); /* no socket: nothing happens */
	CHECK(1, "no NOTIFY_SOCKET: notify() is a no-op");
}

static void test_pid_file(void)
{
	char path[128], *data = NULL;
	struct stat st;

	snprintf(path, sizeof(path), "%s/qbnetd.pid", dir);
	CHECK(!pid_file_write(path), "pid file written");
	CHECK(read_file(path, 64, &data) > 0 && strtol(data, NULL, 10) == (long)getpid() &&
	      !stat(path, &st) && (st.st_mode & 0777) == 0644, "it holds our pid, mode 0644");
	free(data);
	pid_file_remove(path);
	CHECK(access(path, F_OK), "removed at exit");
	state_write_mode(path, "1\n", 2, 0644);
	pid_file_remove(path);
	CHECK(!access(path, F_OK), "a pid file naming another process is left alone");
	unlink(path);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	log_set_level(LOG_LEVEL_ERROR);
	test_sockets();
	test_pid_file();
	rmdir(dir);
	return checks_report("test_notify");
}
