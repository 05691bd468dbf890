/* offsets.c - the offset ring and the commit window's rule. */
#include "offsets.h"

#include <stdlib.h>

struct offsets_slot {
    int64_t off;
    bool done;
    bool sent; /* sent to ZIM at least once */
};

void offsets_init(struct offsets *o)
{
    *o = (struct offsets){0};
}

void offsets_free(struct offsets *o)
{
    free(o->ring);
    offsets_init(o);
}

static struct offsets_slot *at(const struct offsets *o, size_t i)
{
    return &o->ring[(o->head + i) % o->cap];
}

int offsets_track(struct offsets *o, int64_t off)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        struct offsets_slot *r = malloc(cap * sizeof(*r));
        if (r == NULL)
            return -1;
        for (size_t i = 0; i < o->n; i++)
            r[i] = *at(o, i);
        free(o->ring);
        o->ring = r;
        o->cap = cap;
        o->head = 0;
    }
    *at(o, o->n) = (struct offsets_slot){.off = off};
    o->n++;
    return 0;
}

/* The slot of off, or NULL (not tracked: committed, or never). */
static struct offsets_slot *find(const struct offsets *o, int64_t off)
{
    size_t lo = 0, hi = o->n; /* offsets in the ring increase */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (at(o, mid)->off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < o->n && at(o, lo)->off == off ? at(o, lo) : NULL;
}

bool offsets_sent(struct offsets *o, int64_t off)
{
    struct offsets_slot *s = find(o, off);
    if (s == NULL || s->sent)
        return false;
    s->sent = true;
    o->nsent++;
    return true;
}

bool offsets_holds_commit(const struct offsets *o, int64_t off)
{
    return o->ndone < o->n && at(o, o->ndone)->off == off;
}

int64_t offsets_done(struct offsets *o, int64_t off)
{
    struct offsets_slot *s = find(o, off);
    if (s == NULL)
        return -1;
    s->done = true;
    int64_t last = -1;
    while (o->ndone < o->n && at(o, o->ndone)->done)
        last = at(o, o->ndone++)->off;
    if (last < 0)
        return -1;
    return o->ndone < o->n ? at(o, o->ndone)->off : last + 1;
}

int64_t offsets_release(struct offsets *o, int64_t committed)
{
    int64_t sent = 0;
    while (o->ndone > 0 && o->ring[o->head].off < committed) {
        sent += o->ring[o->head].sent;
        o->head = (o->head + 1) % o->cap;
        o->n--;
        o->ndone--;
    }
    o->nsent -= sent;
    return sent;
}

int64_t offsets_reserved(const struct offsets_window *w)
{
    int64_t r = w->partitions;
    if (r > w->max / 2)
        r = w->max / 2;
    return r < 1 ? 1 : r;
}

bool offsets_may_send(const struct offsets_window *w, struct offsets_cand c)
{
    if (c.sent_before)
        return true;
    if (w->used < w->max - offsets_reserved(w))
        return true;
    return w->used < w->max && c.holds_commit;
}

ptrdiff_t offsets_choose(const struct offsets_window *w,
                         const struct offsets_cand *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (offsets_may_send(w, c[i]))
            return (ptrdiff_t)i;
    return -1;
}
