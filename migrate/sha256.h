/*
 * sha256.h - SHA-256 (FIPS 180-4), for the checksums of migration and seed
 * files.
 *
 * Built in rather than taken from libcrypto: OpenSSL 3 spends more time
 * loading and initialising itself (its config file, the algorithm fetch)
 * than a whole 'migrate status' on SQLite takes otherwise (bench/RESULTS.md).
 */
#ifndef MIGRATE_SHA256_H
#define MIGRATE_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;          /* bytes hashed so far */
	unsigned char buf[64]; /* a partial block */
	size_t n;              /* bytes in buf */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Finishes and writes the lowercase hex digest into out (65 bytes with the NUL). */
void sha256_final_hex(struct sha256 *s, char out[65]);

#endif
