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

/* Starts out as an empty span of kind named "<op> <topic>". */
static void begin(struct spans_span *out, enum trace_kind kind, const char *op,
                  const char *topic)
{
    memset(out, 0, sizeof(*out));
    out->span.kind = kind;
    out->span.attrs = out->attrs;
    out->span.name = out->name;
    snprintf(out->name, sizeof(out->name), "%s%s%s", op, topic ? " " : "",
             topic ? topic : "");
}

void spans_process(const struct spans_record *r, const struct spans_policy *p,
                   const uint8_t new_trace[TRACE_ID_BYTES],
                   const uint8_t new_span[SPAN_ID_BYTES],
                   struct spans_process *out)
{
    struct spans_span *s = &out->s;
    begin(s, TRACE_KIND_CONSUMER, "process", r->topic);
    struct trace_ctx parent;
    bool has = r->traceparent &&
               trace_parse(r->traceparent, r->traceparent_len, &parent) == 0;
    out->invalid_parent = r->traceparent && !has;
    if (has) {
        memcpy(s->span.trace_id, parent.trace_id, TRACE_ID_BYTES);
        memcpy(s->span.parent_id, parent.span_id, SPAN_ID_BYTES);
        s->sampled = p->ignore_parent_flag
                         ? trace_ratio_sampled(parent.trace_id, p->root_ratio)
                         : parent.flags & TRACE_FLAG_SAMPLED;
    } else {
        memcpy(s->span.trace_id, new_trace, TRACE_ID_BYTES);
        s->sampled = trace_ratio_sampled(new_trace, p->root_ratio);
    }
    memcpy(s->span.span_id, new_span, SPAN_ID_BYTES);
    s->span.start_ns = r->start_ns;
    s->span.end_ns = r->end_ns;
    snprintf(s->partition, sizeof(s->partition), "%d", (int)r->partition);
    attr_s(s, "messaging.system", "kafka");
    attr_s(s, "messaging.operation.type", "process");
    attr_s(s, "messaging.operation.name", "process");
    attr_s(s, "messaging.destination.name", r->topic);
    attr_s(s, "messaging.destination.partition.id", s->partition);
    attr_s(s, "messaging.consumer.group.name", r->group);
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

/* Whether url[i..] starts the query parameter name= (after ? or &). */
static bool param_at(const char *url, size_t i, const char *name)
{
    size_t n = strlen(name);
    return i > 0 && (url[i - 1] == '?' || url[i - 1] == '&') &&
           strncmp(url + i, name, n) == 0 && url[i + n] == '=';
}

void spans_redact_url(const char *url, char *out, size_t n)
{
    static const char *const secret[] = {"Signature", "SignatureNonce"};
    size_t o = 0;
    if (n == 0)
        return;
    for (size_t i = 0; url[i] && o + 1 < n;) {
        const char *hit = NULL;
        for (size_t k = 0; k < 2 && !hit; k++)
            if (param_at(url, i, secret[k]))
                hit = secret[k];
        if (hit == NULL) {
            out[o++] = url[i++];
            continue;
        }
        /* name=REDACTED, the value skipped up to the next parameter. */
        int w = snprintf(out + o, n - o, "%s=REDACTED", hit);
        o = w < 0 || (size_t)w >= n - o ? n - 1 : o + (size_t)w;
        i += strlen(hit) + 1;
        while (url[i] && url[i] != '&' && url[i] != '#')
            i++;
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
    attr_s(s, "http.request.method", c->method);
    attr_s(s, "server.address", c->server);
    attr_s(s, "url.full", out->url);
    if (c->http_status > 0)
        attr_i(s, "http.response.status_code", c->http_status);
    if (c->resend_count > 0)
        attr_i(s, "http.request.resend_count", c->resend_count);
    attr_s(s, "zim.action", c->action);
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
                    struct spans_span *out, char *tp)
{
    begin(out, TRACE_KIND_PRODUCER, "send", topic);
    out->sampled = ev->sampled;
    memcpy(out->span.trace_id, ev->trace_id, TRACE_ID_BYTES);
    memcpy(out->span.parent_id, ev->span_id, SPAN_ID_BYTES);
    memcpy(out->span.span_id, new_span, SPAN_ID_BYTES);
    out->span.start_ns = start_ns;
    out->span.end_ns = end_ns;
    attr_s(out, "messaging.system", "kafka");
    attr_s(out, "messaging.operation.type", "send");
    attr_s(out, "messaging.operation.name", "send");
    attr_s(out, "messaging.destination.name", topic);
    struct trace_ctx c = {.flags = out->sampled ? TRACE_FLAG_SAMPLED : 0};
    memcpy(c.trace_id, out->span.trace_id, TRACE_ID_BYTES);
    memcpy(c.span_id, out->span.span_id, SPAN_ID_BYTES);
    trace_format(&c, tp);
}
