/* The byte pattern of the offload tests' TCP streams (fake_host and
 * tcp_peer): byte i of a stream, not periodic at any segment size, so a
 * misplaced or repeated segment shows. */
#ifndef QB_TEST_PATTERN_H
#define QB_TEST_PATTERN_H

#include <stdint.h>

static inline uint8_t pattern_byte(uint64_t i)
{
	uint32_t x = (uint32_t)i * 2654435761u;

	return (uint8_t)(x >> 24 ^ x >> 11 ^ i);
}

#endif
