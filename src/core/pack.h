/* pack.h - recipient packing for SendPeerMessage. ZIM's quota counts
 * calls, and one call may name up to 100 recipients (reference §2.1,
 * §2.4): events whose requests are identical but for ToUserId share a
 * call, and an event naming more than 100 goes out as several calls. Each
 * event then gets back only its own recipients' part of the answer.
 *
 * Pure: bytes and JSON in, bytes and JSON out; the caller decides when a
 * call goes (only records ready to send are packed, so per-key order is
 * the scheduler's as before). */
#ifndef ZB_PACK_H
#define ZB_PACK_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

#define PACK_MAX_RECIPIENTS 100 /* one SendPeerMessage call */

/* The request without ToUserId, in a canonical form (json-c's plain
 * form, the event's own key order): two events pack only when theirs are
 * equal byte for byte: sender, type, priority, the whole body, every
 * option. 0, -1 (over out's limit) or -2 (out of memory); out is then
 * poisoned. */
int pack_rest(struct json_object *event, struct buf *out);
/* A hash of a rest, to find candidates fast; never 0. */
uint64_t pack_hash(const char *rest, size_t len);

/* A call being packed: its recipients, each once. */
struct pack_call {
    const char *ids[PACK_MAX_RECIPIENTS];
    size_t n;
};

/* Adds ids[0..n) to c if they all fit and none is in c (or twice in ids)
 * already: true. Otherwise false and c is unchanged. */
bool pack_add(struct pack_call *c, const char *const *ids, size_t n);

/* The call's body: rest with ToUserId set to c's recipients. 0, or -1
 * (out is poisoned). */
int pack_body(const char *rest, size_t len, const struct pack_call *c,
              struct buf *out);

/* The entries of list (ZIM's SuccList or ErrorList; NULL: none) whose
 * UserId is one of ids[0..n): a new array, the caller's, sharing the
 * entries. NULL only when out of memory. */
struct json_object *pack_filter(struct json_object *list,
                                const char *const *ids, size_t n);

/* How many recipients the call starting at recipient off carries, of
 * total: at most PACK_MAX_RECIPIENTS. */
size_t pack_chunk(size_t total, size_t off);

/* pack.linger_ms: whether a call that could go now waits to fill up. Only
 * a call of events that may pack, not full yet, holding an event never
 * sent before (a retry does not wait), and until received + linger. */
bool pack_linger(bool packs, size_t recipients, bool sent_before, int64_t now,
                 int64_t received, int64_t linger_ms);

#endif
