/* Reader for doc/vectors/link-v1.txt: sections "[kind name]" of
 * "key = value" lines, plus a hex decoder. Shared by tests and corpus tools. */
#ifndef QB_TEST_VECTORS_H
#define QB_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VECTOR_FIELDS_MAX 32

struct vector_field {
	char *key;
	char *value;
};

struct vector {
	char *kind;
	char *name;
	unsigned line;
	unsigned nfields;
	struct vector_field fields[VECTOR_FIELDS_MAX];
};

/* Loads all vectors; returns the count or -1 (message printed). */
ssize_t vectors_load(const char *path, struct vector **vectors);
void vectors_free(struct vector *vectors, size_t count);
const char *vector_get(const struct vector *vector, const char *key);
/* Decodes hex into out; returns the length or -1 on bad hex / no room. */
ssize_t hex_decode(const char *hex, uint8_t *out, size_t cap);

#endif
