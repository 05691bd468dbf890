/* envelope.c - record values to request bodies and back (envelope.h). */
#include "envelope.h"

#include <string.h>

int envelope_decode(enum envelope e, const char *value, size_t len,
                    struct envelope_body *out, struct event_error *err)
{
    switch (e) {
    case ENVELOPE_ZIM:
        out->data = value;
        out->len = len;
        return 0;
    }
    memset(err, 0, sizeof(*err));
    err->code = ZB_CODE_UNREADABLE;
    strcpy(err->message, "no decoder for this envelope");
    return -1;
}

int envelope_encode(enum envelope e, const char *original, size_t olen,
                    const char *body, size_t blen, struct buf *out)
{
    (void)original;
    (void)olen;
    switch (e) {
    case ENVELOPE_ZIM:
        return buf_append(out, body, blen);
    }
    return -1;
}
