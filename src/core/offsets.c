/* offsets.c - the offset ring, the finished-offsets record in commit
 * metadata, and the commit window's rule. */
#include "offsets.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_V1 "zb1:" /* runs only: written before the ledger (issue 25) */
#define META_V2 "zb2:" /* "zb2:<ms>" and ":<runs>" when some finished */

struct offsets_slot {
    int64_t off;
    int64_t ms;    /* when it was tracked (wall clock) */
    uint64_t gen;  /* done_gen when it was done */
    bool done;     /* its outcome is in Kafka */
    bool sent;     /* sent to ZIM at least once */
    bool recorded; /* a successful commit names it as finished */
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

int offsets_track(struct offsets *o, int64_t off, int64_t now_ms)
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
    *at(o, o->n) = (struct offsets_slot){.off = off, .ms = now_ms};
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
    o->window++;
    return true;
}

bool offsets_holds_commit(const struct offsets *o, int64_t off)
{
    return o->ndone < o->n && at(o, o->ndone)->off == off;
}

bool offsets_done(struct offsets *o, int64_t off)
{
    struct offsets_slot *s = find(o, off);
    if (s == NULL || s->done)
        return false;
    s->done = true;
    s->gen = ++o->done_gen;
    while (o->ndone < o->n && at(o, o->ndone)->done)
        o->ndone++;
    return true;
}

/* Appends ",a,b" (or ":a,b" first) when it fits in max. */
static bool put_pair(struct offsets_commit *c, size_t max, size_t head,
                     int64_t a, int64_t b)
{
    char tmp[48];
    int n = snprintf(tmp, sizeof(tmp), "%s%" PRId64 ",%" PRId64,
                     c->meta_len > head ? "," : ":", a, b);
    if (n < 0 || c->meta_len + (size_t)n > max)
        return false;
    memcpy(c->meta + c->meta_len, tmp, (size_t)n + 1);
    c->meta_len += (size_t)n;
    return true;
}

void offsets_commit_point(const struct offsets *o, size_t max, int64_t now_ms,
                          struct offsets_commit *c)
{
    if (max > OFFSETS_META_MAX)
        max = OFFSETS_META_MAX;
    c->gen = o->done_gen;
    c->meta_len = 0;
    c->meta[0] = '\0';
    if (o->n == 0) {
        c->offset = c->covered = c->since_ms = -1;
        return;
    }
    /* Every outcome of an offset at or above the commit was written after
     * the oldest of them was polled, or from now on when all are done. */
    c->since_ms = o->ndone == o->n ? now_ms : at(o, o->ndone)->ms;
    int head = snprintf(c->meta, max + 1, META_V2 "%" PRId64,
                        c->since_ms < 0 ? 0 : c->since_ms);
    if (head < 0 || (size_t)head > max) { /* no room for the time: none */
        head = 0;
        c->meta[0] = '\0';
    }
    c->meta_len = (size_t)head;
    if (o->ndone == o->n) { /* all done: nothing above the offset */
        c->offset = at(o, o->n - 1)->off + 1;
        c->covered = c->offset - 1;
        return;
    }
    c->offset = at(o, o->ndone)->off;
    c->covered = c->offset - 1;
    if (head == 0)
        return;
    /* Runs in offset space: offsets never delivered (compacted, markers)
     * count as not done, which is safe. A run of done offsets is put when
     * it ends, with the gap before it; what does not fit is left out. */
    int64_t pos = c->offset, gap = 0, run = 0;
    for (size_t i = o->ndone; i < o->n; i++) {
        const struct offsets_slot *s = at(o, i);
        if (s->off > pos || !s->done) {
            if (run > 0) {
                if (!put_pair(c, max, (size_t)head, gap, run))
                    return;
                c->covered = pos - 1;
                gap = run = 0;
            }
            gap += s->off - pos + !s->done;
        } else {
            run++;
        }
        if (s->done && s->off > pos)
            run = 1;
        pos = s->off + 1;
    }
    if (run > 0 && put_pair(c, max, (size_t)head, gap, run))
        c->covered = pos - 1;
}

void offsets_commit_idle(int64_t offset, int64_t now_ms,
                         struct offsets_commit *c)
{
    c->offset = offset;
    c->covered = offset - 1;
    c->since_ms = now_ms;
    c->gen = 0;
    int n = snprintf(c->meta, sizeof(c->meta), META_V2 "%" PRId64,
                     now_ms < 0 ? 0 : now_ms);
    c->meta_len = n > 0 ? (size_t)n : 0;
}

int64_t offsets_committed(struct offsets *o, const struct offsets_commit *c)
{
    int64_t shrink = 0;
    while (o->ndone > 0 && o->ring[o->head].off < c->offset) {
        struct offsets_slot *s = &o->ring[o->head];
        shrink += s->sent && !s->recorded;
        o->head = (o->head + 1) % o->cap;
        o->n--;
        o->ndone--;
    }
    for (size_t i = o->ndone; i < o->n; i++) {
        struct offsets_slot *s = at(o, i);
        bool rec = s->done && s->gen <= c->gen && s->off <= c->covered;
        if (s->sent && rec != s->recorded)
            shrink += rec ? 1 : -1;
        s->recorded = rec;
    }
    o->window -= shrink;
    return shrink;
}

/* Reads up to 18 digits at meta[*i]; -1 when there are none. */
static int64_t digits(const char *meta, size_t len, size_t *i)
{
    int64_t v = 0;
    size_t start = *i;
    while (*i < len && meta[*i] >= '0' && meta[*i] <= '9' && *i - start < 18)
        v = v * 10 + (meta[(*i)++] - '0');
    return *i == start ? -1 : v;
}

int offsets_skip_decode(struct offsets_skip *s, int64_t base, const char *meta,
                        size_t len)
{
    *s = (struct offsets_skip){.base = base, .since_ms = -1};
    size_t pl = strlen(META_V1), i = pl;
    if (meta == NULL || len <= pl || len > OFFSETS_META_MAX)
        return 0;
    if (memcmp(meta, META_V2, pl) == 0) {
        int64_t ms = digits(meta, len, &i);
        if (ms < 0 || (i < len && meta[i] != ':') || i + 1 == len)
            return 0; /* damaged: no time, nothing to skip */
        s->since_ms = ms;
        if (i == len)
            return 0; /* nothing finished above */
        i++;
    } else if (memcmp(meta, META_V1, pl) != 0) {
        return 0;
    }
    int64_t since = s->since_ms;
    if ((s->runs = malloc((len / 2 + 1) * sizeof(*s->runs))) == NULL)
        return -1;
    int64_t total = 0;
    while (i < len) {
        size_t start = i;
        int64_t v = digits(meta, len, &i);
        bool last = i == len;
        if (v <= 0 || i - start > 12 || (!last && meta[i] != ',') ||
            (total += v) > ((int64_t)1 << 40))
            goto damaged; /* not ours: skip nothing */
        s->runs[s->n++] = v;
        i += !last;
        if (!last && i == len)
            goto damaged; /* a trailing comma */
    }
    if (s->n % 2 == 0)
        return 0;
damaged:
    offsets_skip_free(s);
    s->base = base;
    s->since_ms = since;
    return 0;
}

bool offsets_skip_has(const struct offsets_skip *s, int64_t off)
{
    int64_t pos = s->base;
    for (size_t i = 0; i < s->n && off >= pos; i++) {
        if (i % 2 && off < pos + s->runs[i])
            return true;
        pos += s->runs[i];
    }
    return false;
}

int64_t offsets_skip_last(const struct offsets_skip *s)
{
    int64_t pos = s->base;
    for (size_t i = 0; i < s->n; i++)
        pos += s->runs[i];
    return s->n ? pos - 1 : -1;
}

void offsets_skip_free(struct offsets_skip *s)
{
    free(s->runs);
    *s = (struct offsets_skip){.since_ms = -1};
}

void offsets_limit_init(struct offsets_limit *l, int64_t floor, int64_t cap,
                        int64_t now_ms)
{
    if (floor > cap)
        floor = cap;
    *l = (struct offsets_limit){
        .floor = floor, .cap = cap, .limit = floor, .progress_ms = now_ms};
}

void offsets_limit_recorded(struct offsets_limit *l, int64_t n, int64_t used,
                            int64_t now_ms)
{
    l->progress_ms = now_ms;
    if (n > 0 && used >= l->limit / 2)
        l->limit = n > l->cap - l->limit ? l->cap : l->limit + n;
}

void offsets_limit_tick(struct offsets_limit *l, int64_t used, int64_t now_ms,
                        int64_t stall_ms)
{
    if (used == 0)
        l->progress_ms = now_ms; /* nothing waits: no stall */
    else if (now_ms - l->progress_ms >= stall_ms)
        l->limit = l->floor;
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
