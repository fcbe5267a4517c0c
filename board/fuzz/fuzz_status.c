/* libFuzzer target: `qbnetd status`'s printers fed any bytes as the daemon's
 * dump. The JSON must stay one balanced object whatever comes in: strings
 * closed, braces matched, no raw control characters. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json(const char *text, size_t len)
{
	int depth = 0;
	int in_string = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (in_string) {
			if (c < 0x20 || c >= 0x7f)
				abort();
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
			continue;
		}
		if (c == '"')
			in_string = 1;
		else if (c == '{')
			depth++;
		else if (c == '}' && --depth < 0)
			abort();
	}
	if (in_string || depth != 0 || len < 2 || text[len - 1] != '\n')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return 0;
	status_print_json((const char *)data, size, out);
	fclose(out);
	check_json(text, len);
	free(text);

	out = fopen("/dev/null", "w");
	if (out) {
		status_print_text((const char *)data, size, out);
		fclose(out);
	}
	return 0;
}
