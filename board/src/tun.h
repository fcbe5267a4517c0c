/* The TUN device (IFF_TUN | IFF_NO_PI): open it non-blocking, and say what
 * to do when that fails. */
#ifndef QB_TUN_H
#define QB_TUN_H

#include <stddef.h>

/* Opens /dev/net/tun and attaches to (or creates) the interface; returns the
 * fd, or -1 with an error that names the fix in err. */
int tun_open(const char *name, char *err, size_t err_len);

#endif
