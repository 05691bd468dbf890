/* rng.h - a small fast PRNG (xorshift64*) for jitter and fault rates.
 * Not for secrets: nonces come from OpenSSL (zim_sign_random). */
#ifndef ZB_RNG_H
#define ZB_RNG_H

#include <stdint.h>

/* *state must be non-zero. */
static inline uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ULL;
}

#endif
