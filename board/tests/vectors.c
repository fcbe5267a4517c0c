/* Parses the shared protocol vector file into memory (the whole file is
 * kept; fields point into it) and decodes hex strings. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vectors.h"

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		s[--len] = '\0';
	return s;
}

ssize_t vectors_load(const char *path, struct vector **vectors)
{
	FILE *file = fopen(path, "r");
	struct vector *list = NULL;
	size_t count = 0;
	char *line = NULL;
	size_t line_cap = 0;
	unsigned line_no = 0;

	if (!file) {
		fprintf(stderr, "cannot open vectors %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &line_cap, file) >= 0) {
		line_no++;
		line[strcspn(line, "\n")] = '\0';
		char *text = trim(line);
		if (!*text || *text == '#')
			continue;
		if (*text == '[') {
			char *close = strchr(text, ']');
			char *space = strchr(text, ' ');
			if (!close || !space || space > close)
				goto bad;
			struct vector *grown = realloc(list, (count + 1) * sizeof(*list));
			if (!grown)
				goto bad;
			list = grown;
			struct vector *v = &list[count++];
			memset(v, 0, sizeof(*v));
			*close = '\0';
			*space = '\0';
			v->kind = strdup(text + 1);
			v->name = strdup(space + 1);
			v->line = line_no;
			continue;
		}
		char *eq = strchr(text, '=');
		if (!eq || !count || list[count - 1].nfields >= VECTOR_FIELDS_MAX)
			goto bad;
		*eq = '\0';
		struct vector *v = &list[count - 1];
		v->fields[v->nfields].key = strdup(trim(text));
		v->fields[v->nfields].value = strdup(trim(eq + 1));
		v->nfields++;
	}
	free(line);
	fclose(file);
	*vectors = list;
	return (ssize_t)count;
bad:
	fprintf(stderr, "%s:%u: cannot parse vector line\n", path, line_no);
	vectors_free(list, count);
	free(line);
	fclose(file);
	return -1;
}

void vectors_free(struct vector *vectors, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(vectors[i].kind);
		free(vectors[i].name);
		for (unsigned f = 0; f < vectors[i].nfields; f++) {
			free(vectors[i].fields[f].key);
			free(vectors[i].fields[f].value);
		}
	}
	free(vectors);
}

const char *vector_get(const struct vector *vector, const char *key)
{
	for (unsigned i = 0; i < vector->nfields; i++) {
		if (!strcmp(vector->fields[i].key, key))
			return vector->fields[i].value;
	}
	return NULL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ssize_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t len = strlen(hex);

	if (len % 2 || len / 2 > cap)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int high = hex_digit(hex[2 * i]), low = hex_digit(hex[2 * i + 1]);
		if (high < 0 || low < 0)
			return -1;
		out[i] = (uint8_t)(high << 4 | low);
	}
	return (ssize_t)(len / 2);
}
