/* The board serial announced in HELLO: --serial, else the device tree's
 * serial-number, else /etc/machine-id, else the hostname; sanitised. */
#ifndef QB_SERIAL_H
#define QB_SERIAL_H

#include <stddef.h>

#define SERIAL_MAX 64

/* Keeps printable ASCII, trims surrounding spaces, truncates to 64 bytes;
 * returns the resulting length (0: nothing usable). */
size_t serial_sanitise(const char *in, size_t len, char out[SERIAL_MAX + 1]);
/* Finds the serial from the system; never empty. Reports its source. */
void serial_detect(char out[SERIAL_MAX + 1], const char **source);

#endif
