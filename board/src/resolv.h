/* DNS servers from CONFIG into a resolv.conf file (--resolv-conf file or
 * PATH): find where writing is safe (never through a symlink into another
 * manager's file), back up the original (in memory and in the state dir),
 * write ours in place, and put the original back only over our own text. */
#ifndef QB_RESOLV_H
#define QB_RESOLV_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "proto.h"

#define RESOLV_STATE_FILE "resolv.conf.orig"
#define RESOLV_MAX (1u << 20)
#define RESOLV_TEXT_MAX 2048

struct resolv {
	bool enabled;
	char path[PATH_MAX];		/* as given */
	char target[PATH_MAX];		/* the file written: path, or where its symlink leads */
	char state_path[PATH_MAX];
	bool backed_up;
	bool existed;
	char *original;
	size_t original_len;
	char *written;			/* what we wrote last, NUL-terminated */
};

/* path NULL: disabled. */
int resolv_init(struct resolv *resolv, const char *path, const char *state_dir);
/* The file content for a CONFIG; 0 when it has no DNS servers. */
size_t resolv_render(const struct proto_config *config, const char *ifname, char *out,
		     size_t len);
/* The program that manages the file at an absolute, resolved path (its
 * directory is one of systemd-resolved's, resolvconf's, NetworkManager's,
 * ConnMan's...), or NULL. Pure. */
const char *resolv_manager_of(const char *resolved_path);
/* For a symlink at path: whose directory it points into (followed when it
 * resolves, read as written when dangling), or NULL. */
const char *resolv_link_manager(const char *path);
/* Where writing path would write: path itself (a regular file or none yet),
 * or the file its symlink names when that is not another manager's and its
 * directory exists. 0, or -errno with the reason and the fix in err. */
int resolv_target(const char *path, char *target, size_t target_len, char *err,
		  size_t err_len);
/* Writes content (NULL: puts the original back). 0, or -errno with the
 * reason and the fix in err (nothing is changed then). */
int resolv_set(struct resolv *resolv, const char *content, char *err, size_t err_len);
/* Puts the original back, unless someone else rewrote the file since we
 * wrote it: then it is left as it is. */
void resolv_restore(struct resolv *resolv);
/* Start: put back the original saved by a qbnetd that did not exit cleanly
 * (under the same rule). */
int resolv_recover(const char *state_dir);

#endif
