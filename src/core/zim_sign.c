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
    /* MD5(AppId + SignatureNonce + ServerSecret + Timestamp), fed in
     * parts: a secret of any length signs (a 512-byte buffer refused
     * secrets over ~475 bytes, and sending stalled). */
    char app[16], ts[24];
    snprintf(app, sizeof(app), "%" PRIu32, app_id); /* uint32: positive */
    snprintf(ts, sizeof(ts), "%" PRId64, timestamp);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) &&
             EVP_DigestUpdate(ctx, app, strlen(app)) &&
             EVP_DigestUpdate(ctx, nonce, strlen(nonce)) &&
             EVP_DigestUpdate(ctx, secret, strlen(secret)) &&
             EVP_DigestUpdate(ctx, ts, strlen(ts)) &&
             EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx); /* cleanses the state that saw the secret */
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
