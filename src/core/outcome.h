/* outcome.h - the one place that decides what a ZIM answer means
 * (style.md §7): for the event (sent, partial, rejected, retry, failed),
 * for the breaker (about the message, transport trouble, or our setup),
 * and for the quota (throttled); then whether and when a retry goes, and
 * how a finished event is filed. It uses the reference's retry / re-sign /
 * fix / final marks for every code. Pure. */
#ifndef ZB_OUTCOME_H
#define ZB_OUTCOME_H

#include "breaker.h"
#include "event_kind.h"
#include "zim_proto.h"

#include <stdbool.h>
#include <stdint.h>

struct json_object;

/* Project codes for outcomes that have no ZIM Code (README: error codes). */
#define ZB_CODE_TRANSPORT  900000010 /* no answer: connect, TLS, timeout */
#define ZB_CODE_HTTP       900000011 /* an HTTP status other than 200 */
#define ZB_CODE_BAD_ANSWER 900000012 /* a 200 that is not ZIM's JSON */

enum outcome {
    OUTCOME_SENT = 0, /* Code 0, no failed recipient */
    OUTCOME_PARTIAL,  /* Code 0, some recipients failed (ErrorList) */
    OUTCOME_REJECTED, /* AuditInfos: moderation or pre-send callback */
    OUTCOME_RETRY,    /* transient: try again after a backoff */
    OUTCOME_FAILED,   /* permanent: our request or its data is wrong */
    OUTCOME_UNKNOWN,  /* ambiguous: it may have been sent (not again) */
};

/* An answer that does not say whether ZIM acted on the request. ZIM has
 * no idempotency key (reference §2.6): sending again may deliver twice. */
enum ambiguity {
    AMBIG_NONE = 0,  /* the answer says what happened, or the request was
                        never sent whole (connect, TLS, upload failed) */
    AMBIG_ANSWER,    /* HTTP 200 whose body is not ZIM's JSON: something
                        took the request and answered "OK" its own way */
    AMBIG_NO_ANSWER, /* sent whole, then no answer (timeout, reset) or a
                        gateway's 500/502/504: ZIM may have acted */
};

/* Why a finished event failed (the DLQ's zim.failure.class). */
enum failure_class {
    FAILURE_NONE = 0,
    FAILURE_VALIDATION,
    FAILURE_API,
    FAILURE_EXHAUSTED,
    FAILURE_PARTIAL,
    FAILURE_AMBIGUOUS, /* may have been sent: not sent again, for a human */
};

/* Everything one answer means. */
struct verdict {
    enum outcome outcome;       /* for the event */
    enum breaker_event breaker; /* for the breaker */
    bool throttled; /* over ZIM's quota: slow down and send again; it is
                       not the message's fault, so not an attempt */
};

struct verdict outcome_judge(const struct zim_result *res,
                             enum event_kind kind);
/* What the answer means for an event of kind: an ambiguous answer is
 * OUTCOME_UNKNOWN where kind must not be sent again for one
 * (outcome_resends_ambiguous), else OUTCOME_RETRY. */
enum outcome outcome_classify(const struct zim_result *res,
                              enum event_kind kind);
enum ambiguity outcome_ambiguity(const struct zim_result *res);
/* Whether an event of kind is sent again after an ambiguous answer of
 * this sort. Never after AMBIG_ANSWER (the request was taken); after
 * AMBIG_NO_ANSWER, peer and group messages are (at least once: an outage
 * must not dead-letter them, and a duplicate reaches one conversation),
 * a broadcast to every user never is. */
bool outcome_resends_ambiguous(enum event_kind kind, enum ambiguity a);
/* Codes the reference marks RETRY (or RESIGN, for 100000004). */
bool outcome_code_is_transient(int64_t code);
/* Codes that mean our AppId/secret/setup is wrong, not the message. */
bool outcome_code_is_systemic(int64_t code);

/* The code an answer is filed under: ZIM's Code when it answered with
 * one, else the project code for what went wrong (transport, HTTP, an
 * answer that is not ZIM's JSON). */
int64_t outcome_code(const struct zim_result *res);
/* The code a per-recipient failure is filed under: the first integer
 * SubCode of ZIM's ErrorList (NULL: none), or 0 when it has none. */
int64_t outcome_recipients_code(struct json_object *error_list);

/* Full jitter: a wait in [base, min(cap, base * 2^n)] for retry n >= 0,
 * chosen by rnd. */
int64_t outcome_backoff_ms(int n, int64_t base, int64_t cap, uint64_t rnd);

struct retry_policy {
    int64_t max_attempts, base_ms, max_ms, max_elapsed_ms;
};
/* After a RETRY verdict: how long to wait before the next attempt, or -1
 * to give up (the event is exhausted). attempts: made so far (>= 1);
 * elapsed_ms: since the first attempt, without the time the breaker was
 * open. */
int64_t outcome_retry_wait(const struct retry_policy *p, int attempts,
                           int64_t elapsed_ms, uint64_t rnd);

/* How a final outcome is filed: SENT and REJECTED are no failure,
 * PARTIAL is FAILURE_PARTIAL, FAILED is FAILURE_API, UNKNOWN is
 * FAILURE_AMBIGUOUS. (Validation and exhausted retries are filed by the
 * caller, which knows them.) */
enum failure_class outcome_failure(enum outcome o);
/* The status of a finished event in its reply and metrics: "sent",
 * "partial", "rejected", "failed" or "unknown" (may have been sent). */
const char *outcome_status(enum outcome o, enum failure_class f);
/* "sent", "partial", "rejected", "retry", "failed", "unknown". */
const char *outcome_name(enum outcome o);
/* "validation", "api", "exhausted", "partial", "ambiguous"; "" for none. */
const char *outcome_failure_name(enum failure_class f);

#endif
