/* tracing.c - the bridge's spans, built by core/spans and exported by
 * io/otlp (see tracing.h). */
#define LOG_COMPONENT "tracing"
#include "tracing.h"

#include "otlp.h"
#include "spans.h"

#include "clock.h"
#include "log.h"
#include "rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ZB_VERSION
#define ZB_VERSION "0.0.0-dev"
#endif

#define RESOURCE_MAX 32

struct tracing {
    struct otlp *x;
    struct metrics *m;
    struct spans_policy policy;
    bool reply_copy; /* otel.reply_context = copy */
    const char *group;
    const char *topics[TOPIC_ROLE_COUNT];
    char server[256]; /* server.address: zim.endpoint's host */
    char *endpoint;   /* zim.endpoint, to which a request's target goes */
    uint64_t rng;
    /* The resource's attributes, their strings owned. */
    struct trace_attr res[RESOURCE_MAX];
    size_t n_res;
    /* Scratch, for the span being built. */
    struct spans_process proc;
    struct spans_client client;
    struct spans_span send;
    struct spans_ref refs[PACK_MAX_RECIPIENTS];
    char url[SPANS_URL_MAX], err[32];
    /* The attributes each kind of span shares, encoded once: per input
     * topic, per output topic, per action. */
    struct buf consts_buf[TOPIC_ROLE_COUNT + ZB_ACTION_COUNT];
    struct spans_consts consts[TOPIC_ROLE_COUNT + ZB_ACTION_COUNT];
};

static int64_t wall_ns(void)
{
    return clock_wall_us() * 1000;
}

static void new_ids(struct tracing *t, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = rng_next(&t->rng);
        memcpy(out + i, &v, n - i < 8 ? n - i : 8);
    }
}

/* ---- the resource ---- */

static int res_add(struct tracing *t, const char *k, const char *v)
{
    for (size_t i = 0; i < t->n_res; i++) {
        if (strcmp(t->res[i].key, k) == 0) {
            char *dup = strdup(v);
            if (dup == NULL)
                return -1;
            free((char *)t->res[i].s);
            t->res[i].s = dup;
            return 0;
        }
    }
    if (t->n_res == RESOURCE_MAX)
        return 0; /* more are ignored */
    char *kd = strdup(k), *vd = strdup(v);
    if (kd == NULL || vd == NULL) {
        free(kd);
        free(vd);
        return -1;
    }
    t->res[t->n_res++] =
        (struct trace_attr){.key = kd, .type = TRACE_ATTR_STRING, .s = vd};
    return 0;
}

static int res_kv(void *ctx, const char *k, const char *v)
{
    return res_add(ctx, k, v);
}

/* OTEL_RESOURCE_ATTRIBUTES, then service.name (OTEL_SERVICE_NAME wins)
 * and what the SDK conventions ask. */
static int resource(struct tracing *t, const struct config *cfg, char *err,
                    size_t errlen)
{
    char why[256];
    if (trace_kv_parse(cfg->otel_resource_attributes, res_kv, t, why,
                       sizeof(why)) == -1) {
        snprintf(err, errlen, "otel.resource_attributes: %s", why);
        return -1;
    }
    if (res_add(t, "service.name", cfg->otel_service_name) == -1 ||
        res_add(t, "service.version", ZB_VERSION) == -1 ||
        res_add(t, "telemetry.sdk.name", "zimbridge") == -1 ||
        res_add(t, "telemetry.sdk.language", "c") == -1 ||
        res_add(t, "telemetry.sdk.version", ZB_VERSION) == -1) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* server.address: the host of url (no port, no brackets). */
static void host_of(const char *url, char *out, size_t n)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    const char *at = strpbrk(h, "@/");
    if (at && *at == '@')
        h = at + 1;
    size_t len;
    if (*h == '[') {
        h++;
        len = strcspn(h, "]");
    } else {
        len = strcspn(h, ":/?#");
    }
    snprintf(out, n, "%.*s", (int)len, h);
}

/* consts[role] for each topic, consts[TOPIC_ROLE_COUNT + a] per action. */
static int make_consts(struct tracing *t)
{
    int rc = 0;
    for (int i = 0; i < TOPIC_ROLE_COUNT + ZB_ACTION_COUNT; i++) {
        struct buf *b = &t->consts_buf[i];
        buf_init(b, 64 * 1024);
        if (i < ZB_ACTION_COUNT)
            rc |= spans_process_consts(t->topics[i], t->group, b);
        else if (i < TOPIC_ROLE_COUNT)
            rc |= spans_producer_consts(t->topics[i], b);
        else
            rc |= spans_client_consts(
                event_kind_action((enum event_kind)(i - TOPIC_ROLE_COUNT)),
                "POST", t->server, b);
        t->consts[i] = (struct spans_consts){b->data, b->len};
    }
    return rc ? -1 : 0;
}

static void policy_of(const struct config *cfg, struct spans_policy *p)
{
    double r = strtod(cfg->otel_sampler_arg, NULL); /* checked by config */
    switch ((enum config_sampler)cfg->otel_sampler) {
    case SAMPLER_ALWAYS_ON:
    case SAMPLER_PARENT_ALWAYS_ON:
        r = 1;
        break;
    case SAMPLER_ALWAYS_OFF:
    case SAMPLER_PARENT_ALWAYS_OFF:
        r = 0;
        break;
    case SAMPLER_RATIO:
    case SAMPLER_PARENT_RATIO:
        break;
    }
    p->root_ratio = r;
    p->record_key = cfg->otel_record_key;
    p->ignore_parent_flag = cfg->otel_sampler <= SAMPLER_RATIO;
}

struct tracing *tracing_new(const struct config *cfg, struct metrics *m,
                            char *err, size_t errlen)
{
    char url[2048];
    err[0] = '\0';
    if (config_otel_url(cfg, url, sizeof(url)) == -1 || url[0] == '\0')
        return NULL;
    struct tracing *t = calloc(1, sizeof(*t));
    if (t == NULL || (t->endpoint = strdup(cfg->endpoint)) == NULL ||
        rng_secure(&t->rng, sizeof(t->rng)) == -1) {
        snprintf(err, errlen, "tracing: out of memory or no random source");
        tracing_close(t, 0);
        return NULL;
    }
    t->rng |= 1; /* xorshift's state is never 0 */
    t->m = m;
    policy_of(cfg, &t->policy);
    t->reply_copy = cfg->otel_reply_context == 1;
    const char *g = config_kafka_get(cfg, "group.id");
    t->group = g ? g : "";
    for (int i = 0; i < TOPIC_ROLE_COUNT; i++)
        t->topics[i] = cfg->topic[i];
    host_of(cfg->endpoint, t->server, sizeof(t->server));
    if (make_consts(t) == -1) {
        snprintf(err, errlen, "tracing: out of memory");
        tracing_close(t, 0);
        return NULL;
    }
    if (resource(t, cfg, err, errlen) == -1) {
        tracing_close(t, 0);
        return NULL;
    }
    const struct otlp_conf oc = {.url = url,
                                 .headers = cfg->otel_headers,
                                 .ca_file = cfg->otel_ca_file,
                                 .resource = t->res,
                                 .n_resource = t->n_res,
                                 .scope = "zimbridge",
                                 .version = ZB_VERSION,
                                 .queue_max = cfg->otel_queue_size,
                                 .batch_max = cfg->otel_batch_size,
                                 .flush_ms = cfg->otel_flush_ms,
                                 .timeout_ms = cfg->otel_timeout_ms};
    if ((t->x = otlp_new(&oc, m, err, errlen)) == NULL) {
        tracing_close(t, 0);
        return NULL;
    }
    char shown[2048];
    config_url_redact(url, shown, sizeof(shown));
    log_info("tracing: OTLP/HTTP JSON to %s, sampler %s ratio %g, queue %d",
             shown, cfg->otel_sampler_arg, t->policy.root_ratio,
             (int)cfg->otel_queue_size);
    return t;
}

void tracing_close(struct tracing *t, int64_t deadline_ms)
{
    if (t == NULL)
        return;
    otlp_close(t->x, deadline_ms);
    for (size_t i = 0; i < t->n_res; i++) {
        free((char *)t->res[i].key);
        free((char *)t->res[i].s);
    }
    for (int i = 0; i < TOPIC_ROLE_COUNT + ZB_ACTION_COUNT; i++)
        buf_free(&t->consts_buf[i]);
    free(t->endpoint);
    free(t);
}

/* ---- the spans ---- */

/* What the process span of j reads of its record; key: a buffer of 256
 * bytes for the key, or NULL (not asked for). */
static struct spans_record record_of(struct tracing *t, const struct job *j,
                                     char *key)
{
    const rd_kafka_message_t *rkm = j->rkm;
    rd_kafka_headers_t *h = NULL;
    const void *tp = NULL;
    size_t tpl = 0;
    if (rd_kafka_message_headers(rkm, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(h, "traceparent", &tp, &tpl) !=
            RD_KAFKA_RESP_ERR_NO_ERROR)
        tp = NULL;
    bool with_key = key && rkm->key;
    if (with_key) {
        size_t kl = rkm->key_len < 255 ? rkm->key_len : 255;
        memcpy(key, rkm->key, kl);
        key[kl] = '\0';
    }
    return (struct spans_record){.topic = t->topics[j->kind],
                                 .partition = rkm->partition,
                                 .offset = rkm->offset,
                                 .group = t->group,
                                 .traceparent = tp,
                                 .traceparent_len = tpl,
                                 .key = with_key ? key : NULL,
                                 .start_ns = j->tr_start_ns,
                                 .consts = &t->consts[j->kind]};
}

void tracing_received(struct tracing *t, struct job *j)
{
    j->traced = true;
    j->tr_start_ns = wall_ns();
    /* A root's trace id, if it is one; the span's own id. */
    uint8_t trace[TRACE_ID_BYTES], span[SPAN_ID_BYTES], parent[SPAN_ID_BYTES];
    new_ids(t, trace, TRACE_ID_BYTES);
    new_ids(t, span, SPAN_ID_BYTES);
    const struct spans_record r = record_of(t, j, NULL);
    if (spans_start(&r, &t->policy, trace, span, &j->tr, parent))
        metrics_otel(t->m, METRICS_OTEL_INVALID_PARENT, 1);
}

void tracing_done(struct tracing *t, const struct job *j)
{
    if (!j->traced || !j->tr.sampled || otlp_full(t->x, 1))
        return;
    char key[256];
    struct spans_record r = record_of(t, j, t->policy.record_key ? key : NULL);
    r.end_ns = wall_ns();
    r.error_type =
        j->failure != FAILURE_NONE ? outcome_failure_name(j->failure) : NULL;
    spans_process(&r, &t->policy, j->tr.trace_id, j->tr.span_id, &t->proc);
    otlp_submit(t->x, &t->proc.s.span);
}

/* error.type of a call: low-cardinality, as the conventions ask. */
static const char *call_error(struct tracing *t, const struct zim_result *res)
{
    if (res->curl_rc == 28)
        return "timeout";
    if (res->curl_rc)
        return "transport";
    if (res->http != 200) {
        snprintf(t->err, sizeof(t->err), "%ld", res->http);
        return t->err;
    }
    if (!res->parsed)
        return "bad_answer";
    if (res->code != 0) {
        snprintf(t->err, sizeof(t->err), "zim.%lld", (long long)res->code);
        return t->err;
    }
    return NULL;
}

void tracing_call(struct tracing *t, const struct call *c,
                  const struct zim_result *res, int64_t start_us)
{
    size_t n = 0;
    int resend = 0;
    bool sampled = false;
    for (size_t i = 0; i < c->n_jobs; i++) {
        const struct job *j = c->jobs[i];
        if (!j->traced)
            continue;
        t->refs[n++] = j->tr;
        sampled = sampled || j->tr.sampled;
        if (j->attempts - 1 > resend)
            resend = j->attempts - 1;
    }
    if (!sampled || otlp_full(t->x, 1))
        return;
    snprintf(t->url, sizeof(t->url), "%s%s", t->endpoint,
             res->target ? res->target : "");
    const struct spans_call sc = {
        .action = event_kind_action(c->kind),
        .method = "POST",
        .server = t->server,
        .url = t->url,
        .http_status = res->http,
        .resend_count = resend,
        .zim_code = res->parsed ? res->code : -1,
        .request_id = res->request_id[0] ? res->request_id : NULL,
        .error_type = call_error(t, res),
        .start_ns = start_us * 1000,
        .end_ns = wall_ns(),
        .events = t->refs,
        .n_events = n,
        .consts = &t->consts[TOPIC_ROLE_COUNT + c->kind]};
    uint8_t id[SPAN_ID_BYTES];
    new_ids(t, id, SPAN_ID_BYTES);
    if (spans_client(&sc, id, &t->client))
        otlp_submit(t->x, &t->client.s.span);
}

void tracing_produce(struct tracing *t, struct job_record *r,
                     rd_kafka_headers_t *h)
{
    const struct job *j = r->job;
    if (!j->traced)
        return;
    if (r->span_start_ns == 0) {
        r->span_start_ns = wall_ns();
        new_ids(t, r->span_id, SPAN_ID_BYTES);
    }
    if (t->reply_copy || h == NULL)
        return;
    char tp[TRACEPARENT_LEN + 1];
    spans_producer(&j->tr, t->topics[r->topic], 0, 0, r->span_id, NULL,
                   &t->send, tp);
    rd_kafka_header_remove(h, "traceparent");
    rd_kafka_header_add(h, "traceparent", -1, tp, TRACEPARENT_LEN);
}

void tracing_acked(struct tracing *t, const struct job_record *r)
{
    const struct job *j = r->job;
    if (!j->traced || !j->tr.sampled || r->span_start_ns == 0 ||
        otlp_full(t->x, 1))
        return;
    char tp[TRACEPARENT_LEN + 1];
    spans_producer(&j->tr, t->topics[r->topic], r->span_start_ns, wall_ns(),
                   r->span_id, &t->consts[r->topic], &t->send, tp);
    otlp_submit(t->x, &t->send.span);
}
