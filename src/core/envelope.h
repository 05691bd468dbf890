/* envelope.h - the one step between a Kafka record's value and the event:
 * which bytes of the record are the ZIM request body. Today's envelope is
 * the body itself (a record's value is the JSON request of its topic's
 * action, README "Events"); another envelope (CloudEvents, with the body
 * as its data) is another value here and its two functions, in one core
 * module: the bridge reads bodies only through envelope_decode(), and
 * writes a narrowed body back (a partial's DLQ record) only through
 * envelope_encode(). Pure. */
#ifndef ZB_ENVELOPE_H
#define ZB_ENVELOPE_H

#include "buf.h"
#include "event.h"

#include <stddef.h>

enum envelope {
    ENVELOPE_ZIM = 0, /* the value is ZIM's request body */
};

struct envelope_body {
    const char *data; /* borrowed from the value */
    size_t len;
};

/* The request body in value[0..len). 0, or -1 with err filled (the record
 * is dead-lettered with it). */
int envelope_decode(enum envelope e, const char *value, size_t len,
                    struct envelope_body *out, struct event_error *err);
/* body (a request of the same action, e.g. narrowed to its failed
 * recipients) in the envelope the original value had, into out: what a
 * replay publishes. 0, or -1 (out is then poisoned). */
int envelope_encode(enum envelope e, const char *original, size_t olen,
                    const char *body, size_t blen, struct buf *out);

#endif
