/* fuzz_records.c - the reply and DLQ builders on hostile input: an event
 * (any bytes), ZIM's answer (any bytes, or a transport failure with any
 * error text), and input headers (any bytes) go through validation, the
 * answer's parsing and judging, dlq_describe(), dlq_reply() and
 * dlq_record(). Asserts that every reply value is one strict JSON object
 * of valid UTF-8, that every header the bridge writes is valid UTF-8 (the
 * binary Spring ones aside), that a DLQ value is the input or (partial) a
 * strict JSON object, and that zim.record.mac (signed as the bridge signs
 * broadcast replies; on any record here) verifies, the input's own never
 * kept. The header value is also read as a zim.record.claim (never
 * crashes; whatever verifies round-trips), and a claim made for the
 * record verifies with exactly its fields.
 *
 * Input: byte 0 chooses the action (bits 0-1), the path (bits 2-3: the
 * answer parsed, a transport failure, an HTTP status, or after the
 * answer a validation failure is kept) and whether it was sent whole (bit
 * 4); then the event, ZIM's answer and one header value, separated by
 * the two bytes 0xff 0x00. */
#include "config.h"
#include "dlq.h"
#include "event.h"
#include "job.h"
#include "json_strict.h"
#include "outcome.h"
#include "record_mac.h"
#include "utf8.h"
#include "zim_proto.h"

#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next part of data (up to the separator), advancing *p. */
static size_t part(const uint8_t *data, size_t size, size_t *p,
                   const char **out)
{
    size_t s = *p, e = s;
    while (e + 1 < size && !(data[e] == 0xff && data[e + 1] == 0x00))
        e++;
    if (e + 1 >= size)
        e = size;
    *out = (const char *)data + (s < size ? s : size);
    *p = e + 2;
    return (s < size ? e : size) - (s < size ? s : size);
}

static rd_kafka_topic_t *topic(void)
{
    static rd_kafka_topic_t *rkt;
    if (rkt == NULL) {
        char err[128];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "0", err, sizeof(err));
        rd_kafka_t *rk =
            rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        if (rk == NULL)
            abort();
        rkt = rd_kafka_topic_new(rk, "zim.peer", NULL); /* kept: static */
    }
    return rkt;
}

static void check_json(const struct buf *v)
{
    size_t at;
    struct json_strict_error e;
    char top = 0;
    if (v->data == NULL || !utf8_valid(v->data, v->len, &at, NULL) ||
        json_strict_check(v->data, v->len, 16, NULL, &top, &e) != 0 ||
        top != '{')
        abort();
}

/* Every header the bridge wrote: valid UTF-8 (Spring's binary partition
 * and offset aside); the MAC verifies for kind over value. */
static void check_headers(rd_kafka_headers_t *h, const struct buf *v,
                          const struct record_mac_key *key, const char *kind)
{
    const char *name;
    const void *val;
    size_t len;
    bool mac = false;
    for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &val, &len) == 0;
         i++) {
        if (strcmp(name, RECORD_MAC_HEADER) == 0) {
            int64_t ms;
            if (!record_mac_verify(key, kind, val, len, v->data, v->len, &ms,
                                   NULL) ||
                ms != 1795341600000LL)
                abort();
            mac = true;
            continue;
        }
        if (strncmp(name, "zim.", 4) != 0 ||
            strcmp(name, "zim.value.truncated") == 0)
            continue; /* the input's own, or Spring's binary ones */
        if (val == NULL || !utf8_valid(val, len, NULL, NULL)) {
            fprintf(stderr, "header %s is not UTF-8: %.*s\n", name, (int)len,
                    val ? (const char *)val : "");
            abort();
        }
    }
    if (!mac)
        abort();
}

/* A hostile claim header never crashes the reader; a claim the bridge
 * would write reads back with its own fields, and not for another kind. */
static void check_claims(const struct record_claim_key *key, const char *h,
                         size_t n, bool failed)
{
    struct record_claim c, v;
    if (record_claim_verify(key, "reply", h, n, &c) &&
        (c.topic_len == 0 || c.offset < 0 || c.partition < 0))
        abort();
    /* The header as a topic, when it can be one: no space, no NUL. */
    bool named = n && n <= 249 && !memchr(h, ' ', n) && !memchr(h, 0, n);
    c = (struct record_claim){.ms = 1795341600000LL,
                              .failed = failed,
                              .partition = 3,
                              .offset = 42,
                              .topic = named ? h : "t",
                              .topic_len = named ? n : 1};
    char out[RECORD_CLAIM_MAX];
    if (record_claim_sign(key, "reply", &c, out) != 0 ||
        !record_claim_verify(key, "reply", out, strlen(out), &v) ||
        v.failed != failed || v.partition != 3 || v.offset != 42 ||
        v.topic_len != c.topic_len || memcmp(v.topic, c.topic, c.topic_len) ||
        record_claim_verify(key, "dlq", out, strlen(out), &v))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static struct config cfg;
    static struct event_limits lim;
    static struct record_mac_key key;
    static struct record_claim_key claim;
    if (key.ctx == NULL) {
        config_init(&cfg);
        event_limits_from_config(&cfg, &lim);
        lim.allow_unknown_fields = true; /* the widest input */
        if (record_mac_derive(&key, "fuzz-secret", 1) == -1 ||
            record_claim_derive(&claim, &key, "g") == -1)
            abort();
    }
    int kind = data[0] & 3, path = (data[0] >> 2) & 3;
    size_t p = 1;
    const char *ev, *answer, *hval;
    size_t evn = part(data, size, &p, &ev);
    size_t ann = part(data, size, &p, &answer);
    size_t hn = part(data, size, &p, &hval);
    check_claims(&claim, hval, hn, data[0] & 16);

    /* A record as librdkafka hands it: zeroed room for its private part,
     * the input's headers set through the public API. */
    rd_kafka_message_t *rkm = calloc(1, 4096);
    char *copy = malloc(evn ? evn : 1);
    memcpy(copy, ev, evn);
    rkm->payload = copy;
    rkm->len = evn;
    rkm->rkt = topic();
    rkm->partition = 3;
    rkm->offset = 42;
    rd_kafka_headers_t *in = rd_kafka_headers_new(2);
    rd_kafka_header_add(in, "correlation-id", -1, hval, (ssize_t)hn);
    rd_kafka_header_add(in, RECORD_MAC_HEADER, -1, hval, (ssize_t)hn);
    rd_kafka_message_set_headers(rkm, in);

    struct job *j = calloc(1, sizeof(*j));
    j->rkm = rkm;
    j->kind = (enum event_kind)kind;
    j->attempts = 1;
    zim_result_init(&j->res);
    if (event_parse(&j->ev, j->kind, copy, evn, &lim, &j->verr) != 0) {
        j->outcome = OUTCOME_FAILED;
        j->failure = FAILURE_VALIDATION;
    } else {
        j->valid = true;
        if (j->kind == EVENT_PEER && job_prepare_peer(j, true) != 0)
            goto out;
        j->res.sent = (data[0] >> 4) & 1;
        if (path == 0 || path == 3) {
            j->res.http = 200;
            zim_proto_parse(&j->res, answer, ann);
        } else if (path == 1) {
            j->res.curl_rc = 28; /* timed out, the answer as its text */
            size_t n =
                ann < sizeof(j->res.error) - 1 ? ann : sizeof(j->res.error) - 1;
            memcpy(j->res.error, answer, n); /* hostile bytes, raw */
            j->res.error[n] = '\0';
        } else {
            j->res.http = 500 + (long)(ann % 100);
        }
        j->outcome = outcome_classify(&j->res, j->kind);
        if (j->outcome == OUTCOME_RETRY)
            j->outcome = OUTCOME_FAILED; /* exhausted */
        j->failure = j->outcome == OUTCOME_FAILED && path == 1
                         ? FAILURE_EXHAUSTED
                         : outcome_failure(j->outcome);
    }
    dlq_describe(j);
    struct buf v;
    rd_kafka_headers_t *h = NULL;
    buf_init(&v, (size_t)cfg.max_record_bytes * 2 + 65536);
    if (dlq_reply(j, &cfg, &v, &h) == 0) {
        check_json(&v);
        if (dlq_stamp(h, &key, TOPIC_REPLY, 1795341600000LL, &v) != 0)
            abort();
        check_headers(h, &v, &key, "reply");
    }
    if (h)
        rd_kafka_headers_destroy(h);
    h = NULL;
    buf_free(&v);
    if (j->failure != FAILURE_NONE) {
        buf_init(&v, (size_t)cfg.max_record_bytes * 2 + 65536);
        if (dlq_record(j, &cfg, 1795341600000LL, &v, &h) == 0) {
            if (j->failure == FAILURE_PARTIAL)
                check_json(&v);
            else if (evn <= (size_t)cfg.max_record_bytes &&
                     (v.len != evn || (evn && memcmp(v.data, ev, evn) != 0)))
                abort();
            if (dlq_stamp(h, &key, TOPIC_DLQ, 1795341600000LL, &v) != 0)
                abort();
            check_headers(h, &v, &key, "dlq");
        }
        if (h)
            rd_kafka_headers_destroy(h);
        buf_free(&v);
    }
out:
    rd_kafka_message_set_headers(rkm, NULL); /* destroys in */
    j->rkm = NULL;
    job_destroy(NULL, j);
    free(copy);
    free(rkm);
    return 0;
}
