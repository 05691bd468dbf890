/* breaker.c - circuit breaker state machine. */
#include "breaker.h"

void breaker_init(struct breaker *b, int threshold, int64_t probe_ms,
                  int64_t probe_max_ms)
{
    *b = (struct breaker){.threshold = threshold,
                          .probe_ms = probe_ms,
                          .probe_max_ms = probe_max_ms};
}

static void open_now(struct breaker *b, int64_t code, int64_t now)
{
    b->state = BREAKER_OPEN;
    b->reason_code = code;
    b->opened_at_ms = now;
    b->interval_ms = b->probe_ms;
    b->next_probe_ms = now + b->interval_ms;
    b->probe_in_flight = false;
}

bool breaker_record(struct breaker *b, enum breaker_event ev, int64_t code,
                    int64_t now_ms)
{
    if (b->state == BREAKER_CLOSED) {
        if (ev == BREAKER_SYSTEMIC) {
            open_now(b, code, now_ms);
            return true;
        }
        if (ev == BREAKER_TRANSPORT) {
            if (++b->consecutive >= b->threshold) {
                open_now(b, 0, now_ms);
                return true;
            }
            return false;
        }
        b->consecutive = 0;
        return false;
    }
    /* Open: only a probe's answer matters; others were already out. */
    if (!b->probe_in_flight)
        return false;
    b->probe_in_flight = false;
    if (ev == BREAKER_OK) {
        b->open_total_ms += now_ms - b->opened_at_ms;
        b->state = BREAKER_CLOSED;
        b->consecutive = 0;
        b->reason_code = 0;
        return true;
    }
    /* Still broken: back off, doubling up to the cap. */
    b->interval_ms *= 2;
    if (b->interval_ms > b->probe_max_ms)
        b->interval_ms = b->probe_max_ms;
    b->next_probe_ms = now_ms + b->interval_ms;
    if (ev == BREAKER_SYSTEMIC)
        b->reason_code = code;
    return false;
}

bool breaker_allow(const struct breaker *b, int64_t now_ms)
{
    return b->state == BREAKER_CLOSED ||
           (!b->probe_in_flight && now_ms >= b->next_probe_ms);
}

void breaker_probe_sent(struct breaker *b, int64_t now_ms)
{
    (void)now_ms;
    if (b->state == BREAKER_OPEN)
        b->probe_in_flight = true;
}

int64_t breaker_wait_ms(const struct breaker *b, int64_t now_ms)
{
    if (b->state == BREAKER_CLOSED || now_ms >= b->next_probe_ms)
        return 0;
    return b->next_probe_ms - now_ms;
}

int64_t breaker_open_ms(const struct breaker *b, int64_t now_ms)
{
    return b->open_total_ms +
           (b->state == BREAKER_OPEN ? now_ms - b->opened_at_ms : 0);
}
