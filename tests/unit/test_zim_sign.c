/* test_zim_sign.c - the reference's signature vectors (§8), the negative
 * checks, AppIds above 2^31, nonces and signed URLs. */
#include "rng.h"
#include "zim_sign.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

static const struct {
    uint32_t app_id;
    const char *nonce, *secret;
    int64_t ts;
    const char *want;
} vectors[] = {
    {12345, "4fd24687296dd9f3", "9193cc662a4c0ec135ec71fb57194b38", 1615186943,
     "43e5cfcca828314675f91b001390566a"},
    {1234567890, "0123456789abcdef", "fedcba9876543210fedcba9876543210",
     1700000000, "e9ed257969cc1f3ec6072de763836ed3"},
    {987654321, "a1b2c3d4e5f60718", "9f86d081884c7d659a2feaa0c55ad015",
     1767225600, "7c442f255a8d5f3f30b377c8d9aa8e1a"},
    {4294967295u, "ffffffffffffffff", "00000000000000000000000000000000",
     1800000000, "a7958531d60c5814f5f65ca511474f03"},
};

static void test_vectors(void **s)
{
    (void)s;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char sig[ZIM_SIG_LEN + 1];
        assert_int_equal(zim_sign(vectors[i].app_id, vectors[i].nonce,
                                  vectors[i].secret, vectors[i].ts, sig),
                         0);
        assert_string_equal(sig, vectors[i].want);
    }
}

/* A secret of any length signs: a fixed buffer refused secrets over ~475
 * bytes, and sending stalled without a word. Expected values: Python's
 * hashlib.md5 of the same concatenation. */
static void test_long_secret(void **s)
{
    (void)s;
    char secret[1001], sig[ZIM_SIG_LEN + 1];
    memset(secret, 'k', 1000);
    secret[1000] = '\0';
    assert_int_equal(
        zim_sign(3000000001u, "0123456789abcdef", secret, 1700000000, sig), 0);
    assert_string_equal(sig, "e6f46025fe11210565949c204bc28908");
    assert_int_equal(zim_sign(1, "abcdef0123456789",
                              "秘密秘密秘密秘密秘密秘密秘密秘密秘密秘密", 1,
                              sig),
                     0);
    assert_string_equal(sig, "8e239aced8925fb68c9f5909ffbaac3e");
}

/* What common bugs produce must not be what we output (§8). */
static void test_negative_checks(void **s)
{
    (void)s;
    char sig[ZIM_SIG_LEN + 1];
    zim_sign(987654321, "a1b2c3d4e5f60718", "9f86d081884c7d659a2feaa0c55ad015",
             1767225600, sig);
    assert_string_not_equal(sig, "5f5f068ca79b6dca6a8ea75b6765d6cc");
    assert_string_not_equal(sig, "a9362dcf8b1728378d3c824d2648e0b8");
    assert_string_not_equal(sig, "7C442F255A8D5F3F30B377C8D9AA8E1A");
    zim_sign(4294967295u, "ffffffffffffffff",
             "00000000000000000000000000000000", 1800000000000LL, sig);
    /* A millisecond timestamp signs differently: the caller must pass s. */
    assert_string_equal(sig, "3ec53ac76e001d260b059c3334333493");
}

/* AppIds above 2^31 are real and must not turn negative. */
static void test_large_app_id_in_url(void **s)
{
    (void)s;
    const unsigned char rnd[8] = {0x01, 0x23, 0x45, 0x67,
                                  0x89, 0xab, 0xcd, 0xef};
    struct buf url;
    buf_init(&url, 1024);
    assert_int_equal(zim_sign_url(&url, "https://zim-api.zego.im",
                                  "SendPeerMessage", 2147483648u,
                                  "fedcba9876543210fedcba9876543210", rnd,
                                  1700000000),
                     0);
    char sig[ZIM_SIG_LEN + 1], want[512];
    zim_sign(2147483648u, "0123456789abcdef",
             "fedcba9876543210fedcba9876543210", 1700000000, sig);
    snprintf(want, sizeof(want),
             "https://zim-api.zego.im/?Action=SendPeerMessage&AppId="
             "2147483648&SignatureNonce=0123456789abcdef&Timestamp="
             "1700000000&SignatureVersion=2.0&Signature=%s",
             sig);
    assert_string_equal(url.data, want);
    assert_null(strstr(url.data, "fedcba98765432")); /* no secret */
    /* A trailing slash on the endpoint is not doubled. */
    buf_reset(&url);
    zim_sign_url(&url, "http://127.0.0.1:8080/", "SendGroupMessage", 1, "s",
                 rnd, 5);
    assert_non_null(strstr(url.data, "http://127.0.0.1:8080/?Action="));
    /* The endpoint's path alone gives the request target zim_client
     * sends: the same query after the same path. */
    buf_reset(&url);
    zim_sign_url(&url, "/", "SendGroupMessage", 1, "s", rnd, 5);
    assert_int_equal(
        strncmp(url.data, "/?Action=SendGroupMessage&AppId=1&", 34), 0);
    buf_reset(&url);
    zim_sign_url(&url, "/zim", "SendGroupMessage", 1, "s", rnd, 5);
    assert_int_equal(strncmp(url.data, "/zim/?Action=", 13), 0);
    buf_free(&url);
}

static void test_nonce(void **s)
{
    (void)s;
    unsigned char a[8], b[8];
    char na[ZIM_NONCE_LEN + 1], nb[ZIM_NONCE_LEN + 1];
    assert_int_equal(rng_secure(a, sizeof(a)), 0);
    assert_int_equal(rng_secure(b, sizeof(b)), 0);
    zim_sign_nonce(a, na);
    zim_sign_nonce(b, nb);
    assert_int_equal(strlen(na), 16);
    assert_int_equal(strspn(na, "0123456789abcdef"), 16);
    assert_string_not_equal(na, nb);
    const unsigned char fixed[8] = {0xa1, 0xb2, 0xc3, 0xd4,
                                    0xe5, 0xf6, 0x07, 0x18};
    zim_sign_nonce(fixed, na);
    assert_string_equal(na, "a1b2c3d4e5f60718");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_long_secret),
        cmocka_unit_test(test_negative_checks),
        cmocka_unit_test(test_large_app_id_in_url),
        cmocka_unit_test(test_nonce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
