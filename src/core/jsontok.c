/* jsontok.c - reused json-c tokeners. */
#include "jsontok.h"

#include <json-c/json.h>

struct json_tokener *jsontok_get(struct jsontok *slot, int depth, int flags)
{
    if (slot->tok && (slot->depth != depth || slot->flags != flags)) {
        json_tokener_free(slot->tok);
        slot->tok = NULL;
    }
    if (slot->tok == NULL) {
        if ((slot->tok = json_tokener_new_ex(depth)) == NULL)
            return NULL;
        slot->depth = depth;
        slot->flags = flags;
        json_tokener_set_flags(slot->tok, flags);
    }
    json_tokener_reset(slot->tok);
    return slot->tok;
}
