/* record_mac.c - HMAC-SHA256 on outcome records (OpenSSL 3 EVP_MAC). */
#include "record_mac.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define MAC_LEN 32
#define LABEL   "zimbridge outcome record mac v1"

static const char hexdig[] = "0123456789abcdef";

static EVP_MAC *hmac_alg;

static void fetch_hmac(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

/* A new HMAC-SHA256 state keyed with key, or NULL. The algorithm is
 * fetched once (a fetch per record cost more than the MAC). */
static EVP_MAC_CTX *keyed(const unsigned char *key, size_t klen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fetch_hmac);
    EVP_MAC_CTX *ctx = hmac_alg ? EVP_MAC_CTX_new(hmac_alg) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end()};
    if (ctx && !EVP_MAC_init(ctx, key, klen, params)) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* The MAC of the n parts under ctx's key; ctx is started again (same
 * key) first. 0 or -1. */
static int hmac(EVP_MAC_CTX *ctx, const void *const *part, const size_t *plen,
                int n, unsigned char out[MAC_LEN])
{
    size_t outl = 0;
    int ok = ctx != NULL && EVP_MAC_init(ctx, NULL, 0, NULL);
    for (int i = 0; ok && i < n; i++)
        ok = EVP_MAC_update(ctx, part[i], plen[i]);
    ok = ok && EVP_MAC_final(ctx, out, &outl, MAC_LEN) && outl == MAC_LEN;
    return ok ? 0 : -1;
}

int record_mac_derive(struct record_mac_key *key, const char *secret,
                      uint32_t app_id)
{
    char label[64];
    int n = snprintf(label, sizeof(label), LABEL " %" PRIu32, app_id);
    const void *part[] = {label};
    const size_t plen[] = {(size_t)n};
    /* The secret keys one state, freed (and cleansed) at once. */
    EVP_MAC_CTX *from_secret =
        keyed((const unsigned char *)secret, strlen(secret));
    key->ctx = NULL;
    if (hmac(from_secret, part, plen, 1, key->k) == 0)
        key->ctx = keyed(key->k, sizeof(key->k));
    EVP_MAC_CTX_free(from_secret);
    if (key->ctx == NULL)
        OPENSSL_cleanse(key->k, sizeof(key->k));
    return key->ctx ? 0 : -1;
}

void record_mac_forget(struct record_mac_key *key)
{
    OPENSSL_cleanse(key->k, sizeof(key->k));
    EVP_MAC_CTX_free(key->ctx); /* cleanses the keyed state */
    key->ctx = NULL;
}

static int compute(const struct record_mac_key *key, const char *kind,
                   int64_t ms, const void *value, size_t len,
                   unsigned char out[MAC_LEN])
{
    char head[64];
    int n = snprintf(head, sizeof(head), "v1\n%s\n%" PRId64 "\n", kind, ms);
    if (key->ctx == NULL || n < 0 || (size_t)n >= sizeof(head))
        return -1;
    const void *part[] = {head, value ? value : ""};
    const size_t plen[] = {(size_t)n, value ? len : 0};
    return hmac(key->ctx, part, plen, 2, out);
}

int record_mac_sign(const struct record_mac_key *key, const char *kind,
                    int64_t ms, const void *value, size_t len, char *out)
{
    unsigned char mac[MAC_LEN];
    if (ms < 0 || compute(key, kind, ms, value, len, mac) == -1)
        return -1;
    int n = snprintf(out, RECORD_MAC_MAX, "v1 %" PRId64 " ", ms);
    for (int i = 0; i < MAC_LEN; i++) {
        out[n++] = hexdig[mac[i] >> 4];
        out[n++] = hexdig[mac[i] & 15];
    }
    out[n] = '\0';
    return 0;
}

static int unhex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* "v1 <digits> <64 lowercase hex>", exactly. 0 or -1. */
static int parse(const char *h, size_t n, int64_t *ms,
                 unsigned char mac[MAC_LEN])
{
    if (n < 3 + 1 + 1 + 2 * MAC_LEN || memcmp(h, "v1 ", 3) != 0)
        return -1;
    size_t i = 3;
    int64_t v = 0;
    size_t digits = 0;
    for (; i < n && h[i] >= '0' && h[i] <= '9'; i++, digits++) {
        if (digits >= 18) /* ms until the year 33658: no overflow */
            return -1;
        v = v * 10 + (h[i] - '0');
    }
    if (digits == 0 || i >= n || h[i] != ' ' || n - i - 1 != 2 * MAC_LEN)
        return -1;
    i++;
    for (int k = 0; k < MAC_LEN; k++, i += 2) {
        int hi = unhex(h[i]), lo = unhex(h[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        mac[k] = (unsigned char)(hi << 4 | lo);
    }
    *ms = v;
    return 0;
}

bool record_mac_verify(const struct record_mac_key *key, const char *kind,
                       const void *hdr, size_t hdr_len, const void *value,
                       size_t len, int64_t *ms, uint64_t *mac64)
{
    unsigned char got[MAC_LEN], want[MAC_LEN];
    int64_t t;
    if (hdr == NULL || parse(hdr, hdr_len, &t, got) == -1 ||
        compute(key, kind, t, value, len, want) == -1 ||
        CRYPTO_memcmp(got, want, MAC_LEN) != 0)
        return false;
    *ms = t;
    if (mac64) {
        uint64_t m = 0;
        for (int i = 0; i < 8; i++)
            m = m << 8 | got[i];
        *mac64 = m;
    }
    return true;
}

/* ---- claims ---- */

#define CLAIM_MAC_LEN 16  /* SipHash-2-4's long tag */
#define TOPIC_MAX     249 /* Kafka's limit on a topic's name */
#define CLAIM_LABEL   "zimbridge outcome claim v1\n"

static EVP_MAC *siphash_alg;

static void fetch_siphash(void)
{
    siphash_alg = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
}

int record_claim_derive(struct record_claim_key *ck,
                        const struct record_mac_key *key, const char *group)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fetch_siphash);
    unsigned char full[MAC_LEN];
    const void *part[] = {CLAIM_LABEL, group};
    const size_t plen[] = {strlen(CLAIM_LABEL), strlen(group)};
    ck->ctx = NULL;
    if (siphash_alg == NULL || hmac(key->ctx, part, plen, 2, full) == -1)
        return -1;
    memcpy(ck->k, full, sizeof(ck->k));
    OPENSSL_cleanse(full, sizeof(full));
    if ((ck->ctx = EVP_MAC_CTX_new(siphash_alg)) == NULL)
        OPENSSL_cleanse(ck->k, sizeof(ck->k));
    return ck->ctx ? 0 : -1;
}

void record_claim_forget(struct record_claim_key *ck)
{
    OPENSSL_cleanse(ck->k, sizeof(ck->k));
    EVP_MAC_CTX_free(ck->ctx);
    ck->ctx = NULL;
}

static unsigned char *put_be(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        *p++ = (unsigned char)(v >> (8 * i));
    return p;
}

/* The tag of c for kind: SipHash-2-4 (128 bits) over the kind's first
 * letter, the time, the failure flag, partition and offset (big-endian)
 * and the topic. Keyed again for each tag (cheap for SipHash). */
static int claim_mac(const struct record_claim_key *ck, const char *kind,
                     const struct record_claim *c,
                     unsigned char out[CLAIM_MAC_LEN])
{
    unsigned char m[22], *p = m;
    *p++ = (unsigned char)kind[0];
    p = put_be(p, (uint64_t)c->ms, 8);
    *p++ = c->failed ? 'f' : 'o';
    p = put_be(p, (uint32_t)c->partition, 4);
    put_be(p, (uint64_t)c->offset, 8);
    size_t size = CLAIM_MAC_LEN, outl = 0;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
        OSSL_PARAM_construct_end()};
    int ok = ck->ctx != NULL &&
             EVP_MAC_init(ck->ctx, ck->k, sizeof(ck->k), params) &&
             EVP_MAC_update(ck->ctx, m, sizeof(m)) &&
             EVP_MAC_update(ck->ctx, (const unsigned char *)c->topic,
                            c->topic_len) &&
             EVP_MAC_final(ck->ctx, out, &outl, CLAIM_MAC_LEN) &&
             outl == CLAIM_MAC_LEN;
    return ok ? 0 : -1;
}

/* Writes v in decimal at p; returns the end. */
static char *put_dec(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

int record_claim_sign(const struct record_claim_key *ck, const char *kind,
                      const struct record_claim *c, char *out)
{
    unsigned char mac[CLAIM_MAC_LEN];
    if (c->ms < 0 || c->partition < 0 || c->offset < 0 || c->topic_len == 0 ||
        c->topic_len > TOPIC_MAX || memchr(c->topic, ' ', c->topic_len) ||
        claim_mac(ck, kind, c, mac) == -1)
        return -1;
    /* By hand, not snprintf: this runs for every outcome record. */
    char *p = out;
    memcpy(p, "v1 ", 3);
    p = put_dec(p + 3, (uint64_t)c->ms);
    *p++ = ' ';
    *p++ = c->failed ? 'f' : 'o';
    *p++ = ' ';
    p = put_dec(p, (uint64_t)c->partition);
    *p++ = ' ';
    p = put_dec(p, (uint64_t)c->offset);
    *p++ = ' ';
    for (int i = 0; i < CLAIM_MAC_LEN; i++) {
        *p++ = hexdig[mac[i] >> 4];
        *p++ = hexdig[mac[i] & 15];
    }
    *p++ = ' ';
    memcpy(p, c->topic, c->topic_len);
    p[c->topic_len] = '\0';
    return 0;
}

/* A decimal of 1 to 18 digits at h[*i], then a space. -1 if not. */
static int64_t field(const char *h, size_t n, size_t *i)
{
    int64_t v = 0;
    size_t start = *i;
    while (*i < n && h[*i] >= '0' && h[*i] <= '9' && *i - start < 18)
        v = v * 10 + (h[(*i)++] - '0');
    if (*i == start || *i >= n || h[*i] != ' ')
        return -1;
    (*i)++;
    return v;
}

bool record_claim_verify(const struct record_claim_key *ck, const char *kind,
                         const void *hdr, size_t len, struct record_claim *c)
{
    const char *h = hdr;
    unsigned char got[CLAIM_MAC_LEN], want[CLAIM_MAC_LEN];
    struct record_claim v = {0};
    size_t i = 3;
    if (h == NULL || len < 3 || len > RECORD_CLAIM_MAX ||
        memcmp(h, "v1 ", 3) != 0 || (v.ms = field(h, len, &i)) < 0 ||
        i + 2 > len || (h[i] != 'o' && h[i] != 'f') || h[i + 1] != ' ')
        return false;
    v.failed = h[i] == 'f';
    i += 2;
    int64_t part = field(h, len, &i);
    if (part < 0 || part > INT32_MAX || (v.offset = field(h, len, &i)) < 0 ||
        len - i < 2 * CLAIM_MAC_LEN + 2)
        return false;
    v.partition = (int32_t)part;
    for (int k = 0; k < CLAIM_MAC_LEN; k++, i += 2) {
        int hi = unhex(h[i]), lo = unhex(h[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        got[k] = (unsigned char)(hi << 4 | lo);
    }
    if (h[i++] != ' ')
        return false;
    v.topic = h + i;
    v.topic_len = len - i;
    if (v.topic_len == 0 || v.topic_len > TOPIC_MAX ||
        memchr(v.topic, ' ', v.topic_len) ||
        claim_mac(ck, kind, &v, want) == -1 ||
        CRYPTO_memcmp(got, want, CLAIM_MAC_LEN) != 0)
        return false;
    *c = v;
    return true;
}
