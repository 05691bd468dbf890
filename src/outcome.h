/* outcome.h - the one place that decides what a ZIM answer means
 * (style.md §7), using the reference's retry / re-sign / fix / final marks
 * for every code, and how long to wait before a retry. Pure. */
#ifndef ZB_OUTCOME_H
#define ZB_OUTCOME_H

#include "zim_proto.h"

#include <stdbool.h>
#include <stdint.h>

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
};

enum outcome outcome_classify(const struct zim_result *res);
/* Codes the reference marks RETRY (or RESIGN, for 100000004). */
bool outcome_code_is_transient(int64_t code);
/* Codes that mean our AppId/secret/setup is wrong, not the message. */
bool outcome_code_is_systemic(int64_t code);
/* Full jitter: a wait in [base, min(cap, base * 2^n)] for retry n >= 0,
 * chosen by rnd. */
int64_t outcome_backoff_ms(int n, int64_t base, int64_t cap, uint64_t rnd);
/* "sent", "partial", "rejected", "retry", "failed". */
const char *outcome_name(enum outcome o);

#endif
