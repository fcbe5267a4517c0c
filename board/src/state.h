/* The state directory (--state-dir): an instance lock, and small files that
 * let a restarted qbnetd undo what a crashed one changed. */
#ifndef QB_STATE_H
#define QB_STATE_H

#include <stddef.h>
#include <sys/types.h>

/* Creates the directory (and parents) and takes its lock; returns the lock
 * fd (keep it open), or -1 with err set. */
int state_dir_open(const char *dir, char *err, size_t err_len);
/* dir/name into out; -1 if it does not fit. */
int state_path(char *out, size_t out_len, const char *dir, const char *name);
/* Atomically replaces path (temporary file + rename, mode 0600); 0 or -errno. */
int state_write(const char *path, const void *data, size_t len);
/* The same with the given file mode. */
int state_write_mode(const char *path, const void *data, size_t len, mode_t mode);
/* Reads a whole file of at most max bytes into a malloc'd, NUL-terminated
 * buffer; returns the length or -errno (-EFBIG when larger than max). */
ssize_t read_file(const char *path, size_t max, char **data);
/* Removes path; a missing file is fine. */
void state_remove(const char *path);

#endif
