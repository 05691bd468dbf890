/* window.h - a rolling window: at most `limit` events per `window_ms`, for
 * broadcast's daily quota (100 per 24 h). Pure: the caller passes the
 * time. */
#ifndef ZB_WINDOW_H
#define ZB_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

struct window;
struct window *window_new(int64_t limit, int64_t window_ms);
void window_destroy(struct window *w);
/* Scales the limit by share (replicas split the daily quota). */
void window_set_share(struct window *w, double share);
bool window_full(const struct window *w, int64_t now_ms);
/* When the oldest event leaves the window (0 if not full). */
int64_t window_frees_at(const struct window *w, int64_t now_ms);
void window_add(struct window *w, int64_t at_ms);
int64_t window_count(const struct window *w, int64_t now_ms);
int64_t window_limit(const struct window *w);

#endif
