/* fuzz_zim_proto.c - ZIM's answer on arbitrary bytes: the endpoint is
 * external input (a hostile or broken server, a proxy's error page).
 * Reads the body as a 200 answer, classifies it, and asserts the
 * contract: strings are terminated and valid UTF-8 (cut between
 * characters), MsgId holds digits only, the counts fit the lists, and a
 * body without an integer Code is never "sent" and never sent again: it
 * may have been acted on (ambiguous). */
#include "outcome.h"
#include "utf8.h"
#include "zim_proto.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct zim_result r;
    zim_result_init(&r);
    r.http = 200;
    zim_proto_parse(&r, (const char *)data, size);
    if (memchr(r.message, '\0', sizeof(r.message)) == NULL ||
        memchr(r.request_id, '\0', sizeof(r.request_id)) == NULL ||
        memchr(r.error, '\0', sizeof(r.error)) == NULL ||
        memchr(r.msg_id, '\0', sizeof(r.msg_id)) == NULL)
        abort();
    for (const char *p = r.msg_id; *p; p++)
        if (*p < '0' || *p > '9')
            abort();
    if (r.error_list && r.n_failed > json_object_array_length(r.error_list))
        abort();
    if (r.audit_infos && r.n_audit > json_object_array_length(r.audit_infos))
        abort();
    if (!utf8_valid(r.message, strlen(r.message), NULL, NULL) ||
        !utf8_valid(r.request_id, strlen(r.request_id), NULL, NULL) ||
        !utf8_valid(r.error, strlen(r.error), NULL, NULL))
        abort();
    r.sent = true;
    for (int k = 0; k < EVENT_KIND_COUNT; k++) {
        enum outcome o = outcome_classify(&r, (enum event_kind)k);
        if (!r.parsed && o != OUTCOME_UNKNOWN)
            abort();
    }
    zim_result_free(&r);
    return 0;
}
