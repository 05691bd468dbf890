/* zim_sign.h - ZIM request signatures and signed request URLs.
 * Signature = md5(AppId + SignatureNonce + ServerSecret + Timestamp) as 32
 * lowercase hex (reference §1.4). Pure: the caller passes the time and the
 * random bytes (rng_secure(), base/rng.h), so tests are deterministic. */
#ifndef ZB_ZIM_SIGN_H
#define ZB_ZIM_SIGN_H

#include "buf.h"

#include <stdint.h>

#define ZIM_NONCE_BYTES 8
#define ZIM_NONCE_LEN   16 /* hex characters */
#define ZIM_SIG_LEN     32

/* Writes the signature and a NUL into out[ZIM_SIG_LEN + 1]. 0 or -1. */
int zim_sign(uint32_t app_id, const char *nonce, const char *secret,
             int64_t timestamp, char *out);
/* Lowercase hex of 8 bytes into out[ZIM_NONCE_LEN + 1]. */
void zim_sign_nonce(const unsigned char rnd[ZIM_NONCE_BYTES], char *out);
/* Appends to url the full request URL for action at endpoint
 * ("https://host[:port][/]"), with Action, AppId, SignatureNonce, Timestamp,
 * SignatureVersion=2.0 and Signature. 0 or -1 (buffer full, bad input).
 * Given the endpoint's path alone ("/", "/prefix"), it appends the request
 * target ("/?Action=..."). */
int zim_sign_url(struct buf *url, const char *endpoint, const char *action,
                 uint32_t app_id, const char *secret,
                 const unsigned char rnd[ZIM_NONCE_BYTES], int64_t timestamp);

#endif
