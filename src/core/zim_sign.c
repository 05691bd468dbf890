/* zim_sign.c - ZIM signature (OpenSSL 3 EVP md5) and signed URLs. */
#include "zim_sign.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static const char hexdig[] = "0123456789abcdef";

static void hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdig[in[i] >> 4];
        out[2 * i + 1] = hexdig[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int zim_sign(uint32_t app_id, const char *nonce, const char *secret,
             int64_t timestamp, char *out)
{
    char msg[512];
    /* AppId is uint32: %u keeps values above 2^31 positive. */
    int n = snprintf(msg, sizeof(msg), "%" PRIu32 "%s%s%" PRId64, app_id, nonce,
                     secret, timestamp);
    if (n < 0 || (size_t)n >= sizeof(msg))
        return -1;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok = EVP_Digest(msg, (size_t)n, md, &mdlen, EVP_md5(), NULL);
    OPENSSL_cleanse(msg, sizeof(msg)); /* it held the secret */
    if (!ok || mdlen != 16)
        return -1;
    hex(md, 16, out);
    return 0;
}

void zim_sign_nonce(const unsigned char rnd[ZIM_NONCE_BYTES], char *out)
{
    hex(rnd, ZIM_NONCE_BYTES, out);
}

int zim_sign_url(struct buf *url, const char *endpoint, const char *action,
                 uint32_t app_id, const char *secret,
                 const unsigned char rnd[ZIM_NONCE_BYTES], int64_t timestamp)
{
    char nonce[ZIM_NONCE_LEN + 1], sig[ZIM_SIG_LEN + 1];
    size_t elen = strlen(endpoint);
    if (elen == 0 || action[0] == '\0')
        return -1;
    zim_sign_nonce(rnd, nonce);
    if (zim_sign(app_id, nonce, secret, timestamp, sig) == -1)
        return -1;
    /* Appends, not printf: this runs for every call. */
    buf_append(url, endpoint, elen);
    buf_puts(url, endpoint[elen - 1] == '/' ? "?Action=" : "/?Action=");
    buf_puts(url, action);
    buf_put_field(url, "&AppId=", app_id);
    buf_puts(url, "&SignatureNonce=");
    buf_puts(url, nonce);
    buf_put_field(url, "&Timestamp=", timestamp);
    buf_puts(url, "&SignatureVersion=2.0&Signature=");
    return buf_puts(url, sig);
}
