/* jsontok.h - a json-c tokener kept and reused, one per caller and
 * thread: allocating one per document cost as much as the parse itself.
 * Each caller keeps its own slot (static _Thread_local), so callers with
 * different depths or flags do not make each other's again. */
#ifndef ZB_JSONTOK_H
#define ZB_JSONTOK_H

struct json_tokener;

struct jsontok {
    struct json_tokener *tok;
    int depth, flags;
};

/* The slot's tokener for depth and flags (JSON_TOKENER_*), reset for a
 * new document; made again when depth or flags changed. NULL: out of
 * memory. */
struct json_tokener *jsontok_get(struct jsontok *slot, int depth, int flags);

#endif
