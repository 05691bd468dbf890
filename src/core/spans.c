/* spans.c - the spans of an event's path (see spans.h). */
#include "spans.h"

#include <stdio.h>
#include <string.h>

static void attr_s(struct spans_span *s, const char *k, const char *v)
{
    if (s->span.n_attrs < SPANS_ATTRS_MAX && v)
        s->attrs[s->span.n_attrs++] =
            (struct trace_attr){.key = k, .type = TRACE_ATTR_STRING, .s = v};
}

static void attr_i(struct spans_span *s, const char *k, int64_t v)
{
    if (s->span.n_attrs < SPANS_ATTRS_MAX)
        s->attrs[s->span.n_attrs++] =
            (struct trace_attr){.key = k, .type = TRACE_ATTR_INT, .i = v};
}

/* v in decimal into out (16 bytes). */
static void put_int(char *out, int32_t v)
{
    char d[12];
    size_t n = 0, o = 0;
    uint32_t u = v < 0 ? 0 - (uint32_t)v : (uint32_t)v;
    do
        d[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        out[o++] = '-';
    while (n)
        out[o++] = d[--n];
    out[o] = '\0';
}

/* Starts out as an empty span of kind named "<op> <topic>". */
static void begin(struct spans_span *out, enum trace_kind kind, const char *op,
                  const char *topic)
{
    /* attrs[] is written before it is read: not cleared. */
    memset(&out->span, 0, sizeof(out->span));
    out->sampled = false;
    out->partition[0] = '\0';
    out->span.kind = kind;
    out->span.attrs = out->attrs;
    out->span.name = out->name;
    size_t ol = strlen(op), tl = topic ? strlen(topic) : 0;
    if (ol + 1 + tl >= sizeof(out->name))
        tl = sizeof(out->name) - ol - 2;
    memcpy(out->name, op, ol);
    if (topic) {
        out->name[ol] = ' ';
        memcpy(out->name + ol + 1, topic, tl);
        ol += 1 + tl;
    }
    out->name[ol] = '\0';
}

/* The shared attributes of each kind, in the order they are encoded. */
static void process_consts(struct spans_span *s, const char *topic,
                           const char *group)
{
    attr_s(s, "messaging.system", "kafka");
    attr_s(s, "messaging.operation.type", "process");
    attr_s(s, "messaging.operation.name", "process");
    attr_s(s, "messaging.destination.name", topic);
    attr_s(s, "messaging.consumer.group.name", group);
}

static void producer_consts(struct spans_span *s, const char *topic)
{
    attr_s(s, "messaging.system", "kafka");
    attr_s(s, "messaging.operation.type", "send");
    attr_s(s, "messaging.operation.name", "send");
    attr_s(s, "messaging.destination.name", topic);
}

static void client_consts(struct spans_span *s, const char *action,
                          const char *method, const char *server)
{
    attr_s(s, "http.request.method", method);
    attr_s(s, "server.address", server);
    attr_s(s, "zim.action", action);
}

static void use_consts(struct spans_span *s, const struct spans_consts *c)
{
    s->span.attrs_pre = c->json;
    s->span.attrs_pre_len = c->len;
}

static int encode_consts(struct spans_span *s, struct buf *out)
{
    return trace_attrs_json(s->span.attrs, s->span.n_attrs, out);
}

int spans_process_consts(const char *topic, const char *group, struct buf *out)
{
    struct spans_span s;
    begin(&s, TRACE_KIND_CONSUMER, "process", NULL);
    process_consts(&s, topic, group);
    return encode_consts(&s, out);
}

int spans_producer_consts(const char *topic, struct buf *out)
{
    struct spans_span s;
    begin(&s, TRACE_KIND_PRODUCER, "send", NULL);
    producer_consts(&s, topic);
    return encode_consts(&s, out);
}

int spans_client_consts(const char *action, const char *method,
                        const char *server, struct buf *out)
{
    struct spans_span s;
    begin(&s, TRACE_KIND_CLIENT, method, NULL);
    client_consts(&s, action, method, server);
    return encode_consts(&s, out);
}

bool spans_start(const struct spans_record *r, const struct spans_policy *p,
                 const uint8_t new_trace[TRACE_ID_BYTES],
                 const uint8_t new_span[SPAN_ID_BYTES], struct spans_ref *out,
                 uint8_t parent_id[SPAN_ID_BYTES])
{
    struct trace_ctx parent;
    bool has = r->traceparent &&
               trace_parse(r->traceparent, r->traceparent_len, &parent) == 0;
    if (has) {
        memcpy(out->trace_id, parent.trace_id, TRACE_ID_BYTES);
        memcpy(parent_id, parent.span_id, SPAN_ID_BYTES);
        out->sampled = p->ignore_parent_flag
                           ? trace_ratio_sampled(parent.trace_id, p->root_ratio)
                           : parent.flags & TRACE_FLAG_SAMPLED;
    } else {
        memcpy(out->trace_id, new_trace, TRACE_ID_BYTES);
        memset(parent_id, 0, SPAN_ID_BYTES);
        out->sampled = trace_ratio_sampled(new_trace, p->root_ratio);
    }
    memcpy(out->span_id, new_span, SPAN_ID_BYTES);
    return r->traceparent && !has;
}

void spans_process(const struct spans_record *r, const struct spans_policy *p,
                   const uint8_t new_trace[TRACE_ID_BYTES],
                   const uint8_t new_span[SPAN_ID_BYTES],
                   struct spans_process *out)
{
    struct spans_span *s = &out->s;
    begin(s, TRACE_KIND_CONSUMER, "process", r->topic);
    struct spans_ref ref;
    out->invalid_parent =
        spans_start(r, p, new_trace, new_span, &ref, s->span.parent_id);
    memcpy(s->span.trace_id, ref.trace_id, TRACE_ID_BYTES);
    memcpy(s->span.span_id, ref.span_id, SPAN_ID_BYTES);
    s->sampled = ref.sampled;
    s->span.start_ns = r->start_ns;
    s->span.end_ns = r->end_ns;
    put_int(s->partition, r->partition);
    if (r->consts)
        use_consts(s, r->consts);
    else
        process_consts(s, r->topic, r->group);
    attr_s(s, "messaging.destination.partition.id", s->partition);
    attr_i(s, "messaging.kafka.offset", r->offset);
    if (p->record_key)
        attr_s(s, "messaging.kafka.message.key", r->key);
    if (r->error_type) {
        s->span.status = TRACE_STATUS_ERROR;
        attr_s(s, "error.type", r->error_type);
    }
}

void spans_ref_of(const struct spans_process *p, struct spans_ref *out)
{
    memcpy(out->trace_id, p->s.span.trace_id, TRACE_ID_BYTES);
    memcpy(out->span_id, p->s.span.span_id, SPAN_ID_BYTES);
    out->sampled = p->s.sampled;
}

void spans_redact_url(const char *url, char *out, size_t n)
{
    static const char *const secret[] = {"Signature", "SignatureNonce"};
    if (n == 0)
        return;
    size_t o = 0, i = 0, len = strlen(url);
    while (i < len && o + 1 < n) {
        /* Up to and with the next '?' or '&': a parameter starts there. */
        size_t j = i + strcspn(url + i, "?&");
        j += j < len;
        size_t take = j - i < n - 1 - o ? j - i : n - 1 - o;
        memcpy(out + o, url + i, take);
        o += take;
        i = j;
        for (size_t k = 0; k < 2 && i < len && o + 1 < n; k++) {
            size_t nl = strlen(secret[k]);
            if (strncmp(url + i, secret[k], nl) != 0 || url[i + nl] != '=')
                continue;
            /* name=REDACTED, the value skipped up to the next parameter. */
            int w = snprintf(out + o, n - o, "%s=REDACTED", secret[k]);
            o = w < 0 || (size_t)w >= n - o ? n - 1 : o + (size_t)w;
            i += nl + 1;
            i += strcspn(url + i, "&#");
            break;
        }
    }
    out[o] = '\0';
}

bool spans_client(const struct spans_call *c,
                  const uint8_t new_span[SPAN_ID_BYTES],
                  struct spans_client *out)
{
    const struct spans_ref *home = NULL;
    for (size_t i = 0; i < c->n_events && home == NULL; i++)
        if (c->events[i].sampled)
            home = &c->events[i];
    if (home == NULL)
        return false;
    struct spans_span *s = &out->s;
    begin(s, TRACE_KIND_CLIENT, c->method, NULL);
    s->sampled = true;
    memcpy(s->span.trace_id, home->trace_id, TRACE_ID_BYTES);
    memcpy(s->span.parent_id, home->span_id, SPAN_ID_BYTES);
    memcpy(s->span.span_id, new_span, SPAN_ID_BYTES);
    s->span.start_ns = c->start_ns;
    s->span.end_ns = c->end_ns;
    size_t n = c->n_events < 100 ? c->n_events : 100;
    for (size_t i = 0; i < n; i++) {
        memcpy(out->links[i].trace_id, c->events[i].trace_id, TRACE_ID_BYTES);
        memcpy(out->links[i].span_id, c->events[i].span_id, SPAN_ID_BYTES);
    }
    s->span.links = out->links;
    s->span.n_links = n;
    spans_redact_url(c->url, out->url, sizeof(out->url));
    if (c->consts)
        use_consts(s, c->consts);
    else
        client_consts(s, c->action, c->method, c->server);
    attr_s(s, "url.full", out->url);
    if (c->http_status > 0)
        attr_i(s, "http.response.status_code", c->http_status);
    if (c->resend_count > 0)
        attr_i(s, "http.request.resend_count", c->resend_count);
    if (c->zim_code >= 0)
        attr_i(s, "zim.code", c->zim_code);
    attr_s(s, "zim.request_id", c->request_id);
    attr_i(s, "zim.call.events", (int64_t)c->n_events);
    if (c->error_type) {
        s->span.status = TRACE_STATUS_ERROR;
        attr_s(s, "error.type", c->error_type);
    }
    return true;
}

void spans_producer(const struct spans_ref *ev, const char *topic,
                    int64_t start_ns, int64_t end_ns,
                    const uint8_t new_span[SPAN_ID_BYTES],
                    const struct spans_consts *consts, struct spans_span *out,
                    char *tp)
{
    begin(out, TRACE_KIND_PRODUCER, "send", topic);
    out->sampled = ev->sampled;
    memcpy(out->span.trace_id, ev->trace_id, TRACE_ID_BYTES);
    memcpy(out->span.parent_id, ev->span_id, SPAN_ID_BYTES);
    memcpy(out->span.span_id, new_span, SPAN_ID_BYTES);
    out->span.start_ns = start_ns;
    out->span.end_ns = end_ns;
    if (consts)
        use_consts(out, consts);
    else
        producer_consts(out, topic);
    struct trace_ctx c = {.flags = out->sampled ? TRACE_FLAG_SAMPLED : 0};
    memcpy(c.trace_id, out->span.trace_id, TRACE_ID_BYTES);
    memcpy(c.span_id, out->span.span_id, SPAN_ID_BYTES);
    trace_format(&c, tp);
}
