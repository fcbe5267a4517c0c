/* The qbnetd release version, announced in HELLO (SOFTWARE) and --version.
 * The Makefile may override it with -DQBNETD_VERSION=... */
#ifndef QB_VERSION_H
#define QB_VERSION_H

#ifndef QBNETD_VERSION
#define QBNETD_VERSION "0.1.0"
#endif

#endif
