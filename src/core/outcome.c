/* outcome.c - classify ZIM answers; backoff. */
#include "outcome.h"

#include "action.h"

#include <json-c/json.h>

/* Reference §5: RETRY and RESIGN codes, plus the server-internal SUPPORT
 * codes that describe a passing failure of ZIM itself (read body, gateway,
 * database, moderation service), which a later attempt can get past. */
static const int64_t transient_codes[] = {
    1,         /* server busy */
    7,         /* requests per second above the limit */
    105001,    /* database request failed */
    100000004, /* signature expired: re-signed on the next attempt */
    100000012, /* failed to read HTTP body */
    100000015, /* gateway internal error */
    660000001, /* generic server-side business error */
    660000003, /* logic processing error */
    660300005, /* AppID-level frequency limit */
    660300006, /* group/room-level frequency limit */
    660300007, /* failed to get the room (internal) */
    660500003, /* broadcast frequency limit */
    660500004, /* text moderation request error */
    660500006, /* image moderation request error */
    660600003, /* error querying group members */
    660600015, /* ZIM DB error */
    660600022, /* media redirect address */
};

/* The credentials or the app's setup are wrong: every call will fail the
 * same way, so it is not the message's fault (issue: breaker). */
static const int64_t systemic_codes[] = {
    3,         /* authentication failed */
    100000000, /* wrong host */
    100000001, /* AppId format */
    100000005, /* signature wrong: the secret is wrong */
    100000006, 100000007, 100000008, 100000009,
    100000013, 100000014, 100000010, /* failed to get ServerSecret: unknown
                                        AppId */
    100000011,                       /* failed to get app configuration */
    100000016,                       /* app not enabled for production */
    100000017,                       /* service not enabled */
    660000028,                       /* feature not on the free plan */
};

static bool in(const int64_t *set, size_t n, int64_t code)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == code)
            return true;
    return false;
}

bool outcome_code_is_transient(int64_t code)
{
    return in(transient_codes, sizeof(transient_codes) / sizeof(int64_t), code);
}

bool outcome_code_is_systemic(int64_t code)
{
    return in(systemic_codes, sizeof(systemic_codes) / sizeof(int64_t), code);
}

enum ambiguity outcome_ambiguity(const struct zim_result *res)
{
    if (res->curl_rc == 0 && res->http == 200 && !res->parsed)
        return AMBIG_ANSWER;
    if (res->curl_rc != 0)
        return res->sent ? AMBIG_NO_ANSWER : AMBIG_NONE;
    /* 503 and 429 say the request was not served; a 500, or a gateway's
     * 502/504, may come after ZIM acted. */
    if (res->http == 500 || res->http == 502 || res->http == 504)
        return AMBIG_NO_ANSWER;
    return AMBIG_NONE;
}

bool outcome_resends_ambiguous(enum event_kind kind, enum ambiguity a)
{
    switch (a) {
    case AMBIG_NONE:
        return true;
    case AMBIG_ANSWER:
        return false;
    case AMBIG_NO_ANSWER:
        return kind != EVENT_BROADCAST;
    }
    return false;
}

enum outcome outcome_classify(const struct zim_result *res,
                              enum event_kind kind)
{
    enum ambiguity a = outcome_ambiguity(res);
    if (a != AMBIG_NONE && !outcome_resends_ambiguous(kind, a))
        return OUTCOME_UNKNOWN;
    if (res->curl_rc != 0 || res->http == 429 || res->http >= 500)
        return OUTCOME_RETRY; /* network, throttled, server side */
    if (res->http != 200)
        return OUTCOME_FAILED; /* our request is wrong; retry won't help */
    if (res->n_audit > 0)
        return OUTCOME_REJECTED;
    if (res->code == 0)
        return res->n_failed > 0 ? OUTCOME_PARTIAL : OUTCOME_SENT;
    if (outcome_code_is_transient(res->code))
        return OUTCOME_RETRY;
    return OUTCOME_FAILED;
}

struct verdict outcome_judge(const struct zim_result *res, enum event_kind kind)
{
    struct verdict v = {.outcome = outcome_classify(res, kind)};
    /* An answer that is not ZIM's counts as a transport failure: a proxy
     * answering every call its own way opens the breaker, and the bridge
     * pauses instead of dead-lettering everything. */
    if (res->curl_rc != 0 || res->http >= 500 ||
        outcome_ambiguity(res) == AMBIG_ANSWER)
        v.breaker = BREAKER_TRANSPORT;
    else if (res->parsed && outcome_code_is_systemic(res->code))
        v.breaker = BREAKER_SYSTEMIC;
    /* Over the quota, as the action's row says (7 for all actions;
     * 660500003 for broadcasts). */
    v.throttled = res->parsed && action_throttles(kind, res->code);
    return v;
}

int64_t outcome_code(const struct zim_result *res)
{
    if (res->parsed)
        return res->code;
    return res->curl_rc       ? ZB_CODE_TRANSPORT
           : res->http != 200 ? ZB_CODE_HTTP
                              : ZB_CODE_BAD_ANSWER;
}

int64_t outcome_recipients_code(struct json_object *error_list)
{
    size_t n = json_object_is_type(error_list, json_type_array)
                   ? json_object_array_length(error_list)
                   : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *sub = NULL;
        if (json_object_object_get_ex(json_object_array_get_idx(error_list, i),
                                      "SubCode", &sub) &&
            json_object_is_type(sub, json_type_int))
            return json_object_get_int64(sub);
    }
    return 0;
}

int64_t outcome_backoff_ms(int n, int64_t base, int64_t cap, uint64_t rnd)
{
    int64_t hi = base;
    for (int i = 0; i < n && hi < cap; i++)
        hi *= 2;
    if (hi > cap)
        hi = cap;
    if (hi <= base)
        return hi;
    return base + (int64_t)(rnd % (uint64_t)(hi - base + 1));
}

int64_t outcome_retry_wait(const struct retry_policy *p, int attempts,
                           int64_t elapsed_ms, uint64_t rnd)
{
    if (attempts >= p->max_attempts)
        return -1;
    int64_t wait = outcome_backoff_ms(attempts - 1, p->base_ms, p->max_ms, rnd);
    return elapsed_ms + wait > p->max_elapsed_ms ? -1 : wait;
}

enum failure_class outcome_failure(enum outcome o)
{
    switch (o) {
    case OUTCOME_PARTIAL:
        return FAILURE_PARTIAL;
    case OUTCOME_FAILED:
    case OUTCOME_RETRY: /* not final: filed as the answer that ended it */
        return FAILURE_API;
    case OUTCOME_UNKNOWN:
        return FAILURE_AMBIGUOUS;
    case OUTCOME_SENT:
    case OUTCOME_REJECTED:
        break;
    }
    return FAILURE_NONE;
}

const char *outcome_status(enum outcome o, enum failure_class f)
{
    if (f == FAILURE_PARTIAL)
        return "partial";
    if (f == FAILURE_AMBIGUOUS)
        return "unknown";
    if (f != FAILURE_NONE)
        return "failed";
    return o == OUTCOME_REJECTED ? "rejected" : "sent";
}

const char *outcome_name(enum outcome o)
{
    static const char *const names[] = {"sent",  "partial", "rejected",
                                        "retry", "failed",  "unknown"};
    return names[o];
}

const char *outcome_failure_name(enum failure_class f)
{
    static const char *const names[] = {"",          "validation", "api",
                                        "exhausted", "partial",    "ambiguous"};
    return names[f];
}
