/* Board serial discovery (device tree, machine-id, hostname) and the
 * sanitising that makes any of them a valid SERIAL (1..64 printable bytes). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serial.h"
#include "state.h"

size_t serial_sanitise(const char *in, size_t len, char out[SERIAL_MAX + 1])
{
	size_t used = 0;

	for (size_t i = 0; i < len && used < SERIAL_MAX; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c < 0x20 || c > 0x7e)
			continue;
		if (c == ' ' && !used)
			continue;
		out[used++] = (char)c;
	}
	while (used && out[used - 1] == ' ')
		used--;
	out[used] = '\0';
	return used;
}

static size_t from_file(const char *path, size_t max_len, char out[SERIAL_MAX + 1])
{
	char *data;
	ssize_t len = read_file(path, 4096, &data);

	if (len < 0)
		return 0;
	size_t n = serial_sanitise(data, (size_t)len < max_len ? (size_t)len : max_len, out);
	free(data);
	return n;
}

void serial_detect(char out[SERIAL_MAX + 1], const char **source)
{
	char host[256];

	*source = "device tree";
	if (from_file("/proc/device-tree/serial-number", SERIAL_MAX * 2, out))
		return;
	*source = "/etc/machine-id";
	if (from_file("/etc/machine-id", 16, out))
		return;
	*source = "hostname";
	if (!gethostname(host, sizeof(host) - 1)) {
		host[sizeof(host) - 1] = '\0';
		if (serial_sanitise(host, strlen(host), out))
			return;
	}
	*source = "default";
	snprintf(out, SERIAL_MAX + 1, "unknown");
}
