/* pcshare-agent: XXH64 (xxHash's 64-bit digest, seed 0), incremental; the digest of what the guest read.
 * Hex is the canonical big-endian form xxhsum prints. */
#ifndef PCSHARE_XXH64_H
#define PCSHARE_XXH64_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t v[4];
    uint64_t total;
    unsigned char block[32];
    size_t fill;
} xxh64_ctx;

void xxh64_init(xxh64_ctx *c);
void xxh64_update(xxh64_ctx *c, const void *data, size_t n);
uint64_t xxh64_digest(const xxh64_ctx *c);
/* 16 lowercase hex digits and a NUL. */
void xxh64_hex(uint64_t d, char hex[17]);

#endif
