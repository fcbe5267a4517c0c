/* State directory handling: mkdir -p, an flock'd "lock" file against two
 * daemons sharing it, atomic state file writes, whole-file reads. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "state.h"

static int mkdir_parents(const char *dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int state_dir_open(const char *dir, char *err, size_t err_len)
{
	char path[PATH_MAX];
	int rc = mkdir_parents(dir);

	if (rc) {
		snprintf(err, err_len, "cannot create state directory %s: %s: %s", dir, strerror(-rc),
			 -rc == EACCES || -rc == EPERM || -rc == EROFS ?
			 "run qbnetd as root, or give a writable --state-dir" :
			 "give another --state-dir");
		return -1;
	}
	if (state_path(path, sizeof(path), dir, "lock")) {
		snprintf(err, err_len, "state directory path too long: %s", dir);
		return -1;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, err_len, "cannot open %s: %s: %s", path, strerror(errno),
			 errno == EACCES || errno == EPERM || errno == EROFS ?
			 "run qbnetd as root, or give a writable --state-dir" : "give another --state-dir");
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		snprintf(err, err_len,
			 "%s is locked: another qbnetd is running with state directory %s; stop it or use another --state-dir",
			 path, dir);
		close(fd);
		return -1;
	}
	return fd;
}

int state_path(char *out, size_t out_len, const char *dir, const char *name)
{
	int n = snprintf(out, out_len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= out_len ? -1 : 0;
}

int state_write(const char *path, const void *data, size_t len)
{
	return state_write_mode(path, data, len, 0600);
}

int state_write_mode(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int rc = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (!rc && fsync(fd))
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

ssize_t read_file(const char *path, size_t max, char **data)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		int rc = fd < 0 ? -errno : -ENOMEM;
		free(buf);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= max) {
				free(buf);
				close(fd);
				return -EFBIG;
			}
			cap = cap * 2 > max ? max : cap * 2;
			char *grown = realloc(buf, cap + 1);
			if (!grown) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = grown;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;
			free(buf);
			close(fd);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*data = buf;
	return (ssize_t)len;
}

void state_remove(const char *path)
{
	if (unlink(path) && errno != ENOENT)
		warn("cannot remove %s: %s", path, strerror(errno));
}
