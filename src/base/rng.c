/* rng.c - the CSPRNG. */
#include "rng.h"

#include <limits.h>
#include <openssl/rand.h>

int rng_secure(void *out, size_t n)
{
    if (n > INT_MAX)
        return -1;
    return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}
