/* Telling the service manager how qbnetd is doing: systemd's notification
 * protocol (READY=1, STATUS=..., STOPPING=1 over $NOTIFY_SOCKET) without
 * libsystemd, and a pid file written once qbnetd is ready. */
#ifndef QB_NOTIFY_H
#define QB_NOTIFY_H

/* Reads and unsets $NOTIFY_SOCKET (children must not use it): an absolute
 * path, or '@' for the abstract namespace. Without it, notify() does
 * nothing. An address it cannot use is logged once. */
void notify_init(void);
/* Sends one datagram of "KEY=VALUE" lines; best effort. */
void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notify_close(void);

/* Writes our pid to path (atomically); 0, or -errno. */
int pid_file_write(const char *path);
/* Removes path if it still names us. */
void pid_file_remove(const char *path);

#endif
