/* window.c - the rolling window (a ring of event times). */
#include "window.h"

#include <math.h>
#include <stdlib.h>

struct window {
    int64_t full_limit, limit, window_ms;
    int64_t *t; /* event times, oldest first, ring of full_limit */
    int64_t head, n;
};

struct window *window_new(int64_t limit, int64_t window_ms)
{
    struct window *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->full_limit = w->limit = limit;
    w->window_ms = window_ms;
    if (limit > 0 && (w->t = calloc((size_t)limit, sizeof(*w->t))) == NULL) {
        free(w);
        return NULL;
    }
    return w;
}

void window_destroy(struct window *w)
{
    if (w) {
        free(w->t);
        free(w);
    }
}

void window_set_share(struct window *w, double share)
{
    w->limit = (int64_t)floor((double)w->full_limit * share);
}

static void expire(const struct window *cw, int64_t now)
{
    struct window *w = (struct window *)cw;
    while (w->n && now - w->t[w->head] >= w->window_ms) {
        w->head = (w->head + 1) % w->full_limit;
        w->n--;
    }
}

bool window_full(const struct window *w, int64_t now_ms)
{
    if (w->full_limit <= 0)
        return false;
    expire(w, now_ms);
    return w->n >= w->limit;
}

int64_t window_frees_at(const struct window *w, int64_t now_ms)
{
    if (!window_full(w, now_ms))
        return 0;
    if (w->n == 0)
        return -1; /* a share of 0: never (until the share changes) */
    /* The event that must leave for a slot: n - limit + 1 from the oldest. */
    int64_t k = w->n - w->limit;
    return w->t[(w->head + k) % w->full_limit] + w->window_ms;
}

void window_add(struct window *w, int64_t at_ms)
{
    if (w->full_limit <= 0)
        return;
    if (w->n == w->full_limit) { /* drop the oldest */
        w->head = (w->head + 1) % w->full_limit;
        w->n--;
    }
    w->t[(w->head + w->n) % w->full_limit] = at_ms;
    w->n++;
}

int64_t window_count(const struct window *w, int64_t now_ms)
{
    expire(w, now_ms);
    return w->n;
}

int64_t window_limit(const struct window *w)
{
    return w->limit;
}
