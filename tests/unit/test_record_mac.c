/* test_record_mac.c - the outcome record MAC: a vector computed apart
 * (Python's hmac), and every way a forger could reuse a genuine header. */
#include "record_mac.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

static const char value[] = "{\"status\":\"sent\",\"message\":\"成功 🎉\"}";
#define T0 1700000000000LL

/* python3: k = hmac.new(b"s3cr3t", b"zimbridge outcome record mac v1 42",
 * sha256).digest(); hmac.new(k, b"v1\nreply\n1700000000000\n" + value,
 * sha256).hexdigest() */
static const char vector[] = "v1 1700000000000 a2b2ffd1f367858ffed71bc27a92e2"
                             "8218fb99bb11ddd187a30d98d42ef6a36f";

static void key(struct record_mac_key *k, const char *secret, uint32_t app)
{
    assert_int_equal(record_mac_derive(k, secret, app), 0);
}

static bool verify(const struct record_mac_key *k, const char *kind,
                   const char *hdr, const char *v, int64_t *ms)
{
    return record_mac_verify(k, kind, hdr, strlen(hdr), v, strlen(v), ms, NULL);
}

static void test_vector(void **s)
{
    (void)s;
    struct record_mac_key k;
    key(&k, "s3cr3t", 42);
    char out[RECORD_MAC_MAX];
    assert_int_equal(
        record_mac_sign(&k, "reply", T0, value, strlen(value), out), 0);
    assert_string_equal(out, vector);
    int64_t ms = 0;
    uint64_t m64 = 0;
    assert_true(record_mac_verify(&k, "reply", out, strlen(out), value,
                                  strlen(value), &ms, &m64));
    assert_int_equal(ms, T0);
    assert_true(m64 == 0xa2b2ffd1f367858fULL);
    /* The same again: the keyed state starts over for each MAC. */
    char again[RECORD_MAC_MAX];
    assert_int_equal(
        record_mac_sign(&k, "reply", T0, value, strlen(value), again), 0);
    assert_string_equal(again, vector);
    record_mac_forget(&k);
}

static void test_forgeries_refused(void **s)
{
    (void)s;
    struct record_mac_key k, other_secret, other_app;
    key(&k, "s3cr3t", 42);
    key(&other_secret, "s3cr3T", 42);
    key(&other_app, "s3cr3t", 43);
    int64_t ms = 0;
    assert_true(verify(&k, "reply", vector, value, &ms));
    /* the genuine header on another value, kind, or time */
    assert_false(verify(&k, "reply", vector, "{\"status\":\"sent\"}", &ms));
    assert_false(verify(&k, "dlq", vector, value, &ms));
    char h[RECORD_MAC_MAX];
    snprintf(h, sizeof(h), "v1 1700000000001 %s", vector + 17);
    assert_false(verify(&k, "reply", h, value, &ms));
    /* another secret or AppID */
    assert_false(verify(&other_secret, "reply", vector, value, &ms));
    assert_false(verify(&other_app, "reply", vector, value, &ms));
    record_mac_forget(&other_secret);
    record_mac_forget(&other_app);
    /* malformed headers */
    static const char *const bad[] = {
        "",
        "v1",
        "v2 1700000000000 a2b2ffd1f367858ffed71bc27a92e28218fb99bb11ddd187a30d"
        "98d42ef6a36f",
        "v1  a2b2ffd1f367858ffed71bc27a92e28218fb99bb11ddd187a30d98d42ef6a36f",
        "v1 -1 "
        "a2b2ffd1f367858ffed71bc27a92e28218fb99bb11ddd187a30d98d42ef6a36f",
        "v1 1700000000000 A2B2FFD1F367858FFED71BC27A92E28218FB99BB11DDD187A30D"
        "98D42EF6A36F",
        "v1 1700000000000 a2b2ffd1f367858ffed71bc27a92e28218fb99bb11ddd187a30d"
        "98d42ef6a36",
        "v1 1700000000000 a2b2ffd1f367858ffed71bc27a92e28218fb99bb11ddd187a30d"
        "98d42ef6a36f0",
        "v1 99999999999999999999 a2b2ffd1f367858ffed71bc27a92e28218fb99bb11dd"
        "d187a30d98d42ef6a36f",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(verify(&k, "reply", bad[i], value, &ms));
    assert_false(record_mac_verify(&k, "reply", NULL, 0, value, 1, &ms, NULL));
    /* a forgotten key verifies nothing and signs nothing */
    record_mac_forget(&k);
    assert_false(verify(&k, "reply", vector, value, &ms));
    assert_int_equal(record_mac_sign(&k, "reply", T0, value, 1, h), -1);
}

/* The claim: which input record an outcome is for, signed apart from the
 * value. Vector, python3 (pip siphash24 or any SipHash-2-4-128):
 *   k = hmac(hmac(b"s3cr3t", b"zimbridge outcome record mac v1 42"),
 *            b"zimbridge outcome claim v1\nzimbridge")[:16]
 *   siphash_2_4_128(k, b"r" + be64(1700000000000) + b"o" + be32(3) +
 *                   be64(1042) + b"zim.peer") */
#define CLAIM_VECTOR "672507bdb058594d277ca537cd1ec345"

static void test_claim(void **s)
{
    (void)s;
    struct record_mac_key k, other;
    struct record_claim_key ck, ck_other_app, ck_other_group, ck_prefix;
    key(&k, "s3cr3t", 42);
    key(&other, "s3cr3t", 43);
    assert_int_equal(record_claim_derive(&ck, &k, "zimbridge"), 0);
    assert_int_equal(record_claim_derive(&ck_other_app, &other, "zimbridge"),
                     0);
    assert_int_equal(record_claim_derive(&ck_other_group, &k, "zimbridge2"), 0);
    assert_int_equal(record_claim_derive(&ck_prefix, &k, "zimbridg"), 0);
    struct record_claim c = {.ms = T0,
                             .failed = false,
                             .partition = 3,
                             .offset = 1042,
                             .topic = "zim.peer",
                             .topic_len = 8};
    char out[RECORD_CLAIM_MAX];
    assert_int_equal(record_claim_sign(&ck, "reply", &c, out), 0);
    assert_string_equal(out,
                        "v1 1700000000000 o 3 1042 " CLAIM_VECTOR " zim.peer");
    struct record_claim v;
    assert_true(record_claim_verify(&ck, "reply", out, strlen(out), &v));
    assert_true(v.ms == T0 && !v.failed && v.partition == 3 &&
                v.offset == 1042 && v.topic_len == 8 &&
                memcmp(v.topic, "zim.peer", 8) == 0);
    /* Another AppID, group or kind: not ours. */
    assert_false(
        record_claim_verify(&ck_other_app, "reply", out, strlen(out), &v));
    assert_false(
        record_claim_verify(&ck_other_group, "reply", out, strlen(out), &v));
    assert_false(
        record_claim_verify(&ck_prefix, "reply", out, strlen(out), &v));
    assert_false(record_claim_verify(&ck, "dlq", out, strlen(out), &v));
    /* Each field changed, the tag kept; and malformed headers. */
    static const char *const bad[] = {
        "v1 1700000000001 o 3 1042 " CLAIM_VECTOR " zim.peer",
        "v1 1700000000000 f 3 1042 " CLAIM_VECTOR " zim.peer",
        "v1 1700000000000 o 4 1042 " CLAIM_VECTOR " zim.peer",
        "v1 1700000000000 o 3 1043 " CLAIM_VECTOR " zim.peer",
        "v1 1700000000000 o 3 1042 " CLAIM_VECTOR " zim.pee",
        "v1 1700000000000 o 3 1042 " CLAIM_VECTOR " ",
        "v1 1700000000000 o 3 1042 " CLAIM_VECTOR,
        "v1 1700000000000 x 3 1042 " CLAIM_VECTOR " zim.peer",
        "v1 1700000000000 o -3 1042 " CLAIM_VECTOR " zim.peer",
        "v1 1700000000000 o 99999999999 1042 " CLAIM_VECTOR " zim.peer",
        "v2 1700000000000 o 3 1042 " CLAIM_VECTOR " zim.peer",
        "v1  1700000000000 o 3 1042 " CLAIM_VECTOR " zim.peer",
        "v1 1700000000000 o 3 1042 " CLAIM_VECTOR " zim peer",
        "",
        "v1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (record_claim_verify(&ck, "reply", bad[i], strlen(bad[i]), &v))
            fail_msg("case %zu verified: %s", i, bad[i]);
    /* The tag itself altered: one bit, uppercase hex, cut short. */
    char alt[RECORD_CLAIM_MAX];
    snprintf(alt, sizeof(alt), "%s", out);
    char *tag = alt + strlen("v1 1700000000000 o 3 1042 ");
    tag[31] = tag[31] == '0' ? '1' : '0';
    assert_false(record_claim_verify(&ck, "reply", alt, strlen(alt), &v));
    snprintf(alt, sizeof(alt), "%s", out);
    for (int i = 0; i < 32; i++)
        tag[i] = (char)(tag[i] >= 'a' ? tag[i] - 32 : tag[i]);
    assert_true(strcmp(alt, out) != 0);
    assert_false(record_claim_verify(&ck, "reply", alt, strlen(alt), &v));
    /* A failure's claim, a long topic; refused to sign: a space in the
     * topic, a topic over Kafka's 249, a negative offset. */
    char topic[250];
    memset(topic, 't', sizeof(topic));
    c = (struct record_claim){.ms = T0,
                              .failed = true,
                              .partition = 0,
                              .offset = 0,
                              .topic = topic,
                              .topic_len = 249};
    assert_int_equal(record_claim_sign(&ck, "dlq", &c, out), 0);
    assert_true(record_claim_verify(&ck, "dlq", out, strlen(out), &v) &&
                v.failed && v.topic_len == 249);
    c.topic_len = 250;
    assert_int_equal(record_claim_sign(&ck, "dlq", &c, out), -1);
    c.topic = "a b";
    c.topic_len = 3;
    assert_int_equal(record_claim_sign(&ck, "dlq", &c, out), -1);
    c.topic = "ab";
    c.topic_len = 2;
    c.offset = -1;
    assert_int_equal(record_claim_sign(&ck, "dlq", &c, out), -1);
    record_claim_forget(&ck);
    record_claim_forget(&ck_other_app);
    record_claim_forget(&ck_other_group);
    record_claim_forget(&ck_prefix);
    assert_int_equal(record_claim_sign(&ck, "reply", &c, out), -1);
    record_mac_forget(&k);
    record_mac_forget(&other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector),
        cmocka_unit_test(test_forgeries_refused),
        cmocka_unit_test(test_claim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
