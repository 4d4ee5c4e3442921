/* Little-endian decoding. All multi-byte values in an x86-64 core or ELF
 * file are little-endian; decode them byte by byte so the code depends on
 * neither the host's byte order nor alignment. Callers bounds-check p. */
#ifndef PHA_LE_H
#define PHA_LE_H

#include <stdint.h>

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

#endif
