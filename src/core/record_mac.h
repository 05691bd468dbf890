/* record_mac.h - proof that an outcome record (reply or DLQ) was written
 * by a zimbridge of this AppID. Anyone who can write to the reply topic
 * could otherwise forge "sent" broadcasts and pause broadcasting for a day
 * (the broadcast history is rebuilt from that topic).
 *
 * The header zim.record.mac is "v1 <ms> <hex>": HMAC-SHA256 under a key
 * derived from the ServerSecret, over the version, the record's kind
 * ("reply" or "dlq"), the time it was written (ms since the epoch, also
 * what the history counts, whatever timestamp type the topic has) and the
 * value. A copied header on another value, another kind or another time
 * does not verify; an exact copy of a genuine record has the same MAC,
 * which a reader can count once. */
#ifndef ZB_RECORD_MAC_H
#define ZB_RECORD_MAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_MAC_HEADER  "zim.record.mac"
#define RECORD_MAC_KEY_LEN 32
/* "v1 " + up to 20 digits + " " + 64 hex + NUL */
#define RECORD_MAC_MAX 96

struct evp_mac_ctx_st;

/* The key, and an HMAC state keyed with it that each MAC starts from
 * again (keying once: a MAC then costs about 0.5 us, not 3.9). One
 * thread at a time; move it by copying, then forget only the copy that
 * stays in use. */
struct record_mac_key {
    unsigned char k[RECORD_MAC_KEY_LEN];
    struct evp_mac_ctx_st *ctx; /* NULL: no key (not derived, forgotten) */
};

/* The key for app_id under secret (HMAC-SHA256 of a fixed label): the
 * ServerSecret itself is never the MAC key. 0 or -1 (OpenSSL failed). */
int record_mac_derive(struct record_mac_key *key, const char *secret,
                      uint32_t app_id);
/* Wipes the key and frees its state. */
void record_mac_forget(struct record_mac_key *key);
/* The header value for a record of kind written at ms, in out
 * (RECORD_MAC_MAX). 0 or -1. */
int record_mac_sign(const struct record_mac_key *key, const char *kind,
                    int64_t ms, const void *value, size_t len, char *out);
/* Whether hdr (len bytes, not NUL-terminated) is a valid MAC of value for
 * kind; then *ms is the time it carries, and mac64 (if not NULL) the MAC's
 * first 8 bytes, to count copies once. */
bool record_mac_verify(const struct record_mac_key *key, const char *kind,
                       const void *hdr, size_t hdr_len, const void *value,
                       size_t len, int64_t *ms, uint64_t *mac64);

/* ---- the claim: which input record an outcome record is for ----
 *
 * Every reply and DLQ record carries zim.record.claim =
 * "v1 <ms> <o|f> <partition> <offset> <32 hex> <topic>": the input
 * record (topic, partition, offset) it is the outcome of, whether that
 * outcome is a failure ('f': a DLQ record goes with the reply), and when
 * it was written. The tag is SipHash-2-4 (OpenSSL's, 128 bits) over those
 * and the record's kind, under a key derived from the record key for one
 * consumer group: it covers a few dozen bytes whatever the value's size
 * (a claim costs about 1,500 instructions; HMAC-SHA256 cost 14,000 with
 * its formatting), and it says all the ledger needs (a crash then sends
 * again only what had no outcome in Kafka). A copy of a genuine claim on
 * another record only repeats a true claim. */
#define RECORD_CLAIM_HEADER "zim.record.claim"
/* "v1 " + 19 + " f " + 10 + " " + 19 + " " + 32 + " " + topic (249) */
#define RECORD_CLAIM_MAX 352

struct record_claim_key {
    unsigned char k[16];
    struct evp_mac_ctx_st *ctx; /* NULL: no key */
};

struct record_claim {
    int64_t ms;
    bool failed;
    int32_t partition;
    int64_t offset;
    const char *topic; /* not NUL-terminated when verified: topic_len */
    size_t topic_len;
};

/* The claim key of a consumer group under key (HMAC-SHA256 of a label and
 * the group, cut to 128 bits). 0 or -1. One thread at a time. */
int record_claim_derive(struct record_claim_key *ck,
                        const struct record_mac_key *key, const char *group);
void record_claim_forget(struct record_claim_key *ck);
/* The header value for c, for a record of kind ("reply" or "dlq"), in
 * out (RECORD_CLAIM_MAX). 0 or -1 (no key, a topic too long or with a
 * space). */
int record_claim_sign(const struct record_claim_key *ck, const char *kind,
                      const struct record_claim *c, char *out);
/* Whether hdr (len bytes) is a valid claim for kind; then c is filled,
 * its topic pointing into hdr. */
bool record_claim_verify(const struct record_claim_key *ck, const char *kind,
                         const void *hdr, size_t len, struct record_claim *c);

#endif
