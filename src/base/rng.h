/* rng.h - randomness: a small fast PRNG (xorshift64*) for jitter and fault
 * rates, and rng_secure(), the one reader of OpenSSL's CSPRNG, for nonces
 * and seeds. */
#ifndef ZB_RNG_H
#define ZB_RNG_H

#include <stddef.h>
#include <stdint.h>

/* *state must be non-zero. Not for secrets. */
static inline uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ULL;
}

/* Fills out with n bytes from OpenSSL's CSPRNG. 0 or -1. */
int rng_secure(void *out, size_t n);

#endif
