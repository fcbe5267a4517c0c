/* DNS servers from CONFIG into resolv.conf (--resolv-conf): back up the
 * original (in memory and in the state dir), write ours in place, restore. */
#ifndef QB_RESOLV_H
#define QB_RESOLV_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "proto.h"

#define RESOLV_STATE_FILE "resolv.conf.orig"
#define RESOLV_MAX (1u << 20)

struct resolv {
	bool enabled;
	char path[PATH_MAX];
	char state_path[PATH_MAX];
	bool backed_up;
	bool existed;
	char *original;
	size_t original_len;
	char *written;		/* what we wrote last, to skip identical writes */
};

/* path NULL: --resolv-conf none. */
int resolv_init(struct resolv *resolv, const char *path, const char *state_dir);
/* The file content for a CONFIG; 0 when it has no DNS servers. */
size_t resolv_render(const struct proto_config *config, const char *ifname, char *out,
		     size_t len);
/* Writes the CONFIG's servers (or restores the original when it has none). */
int resolv_apply(struct resolv *resolv, const struct proto_config *config,
		 const char *ifname, char *err, size_t err_len);
void resolv_restore(struct resolv *resolv);
/* Start: put back the original saved by a qbnetd that did not exit cleanly. */
int resolv_recover(const char *state_dir);

#endif
