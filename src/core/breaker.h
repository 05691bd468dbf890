/* breaker.h - the circuit breaker for failures that are not the message's
 * fault: a systemic code (wrong AppId or secret, app not set up), or ZIM
 * unreachable for N calls in a row. While open, nothing is sent except one
 * probe per interval (doubling up to a cap); a probe that gets any real
 * answer closes it. Pure: the caller passes the time. */
#ifndef ZB_BREAKER_H
#define ZB_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

enum breaker_state { BREAKER_CLOSED = 0, BREAKER_OPEN };

/* What one call came back with, as the breaker sees it. */
enum breaker_event {
    BREAKER_OK = 0,    /* an answer that is about the message */
    BREAKER_TRANSPORT, /* no answer, or HTTP 5xx */
    BREAKER_SYSTEMIC,  /* a code meaning our setup is wrong */
};

struct breaker {
    enum breaker_state state;
    int threshold; /* transport failures in a row that open it */
    int consecutive;
    int64_t probe_ms, probe_max_ms, interval_ms;
    int64_t opened_at_ms, next_probe_ms;
    bool probe_in_flight;
    int64_t reason_code;   /* the code that opened it, 0 for transport */
    int64_t open_total_ms; /* time spent open, closed periods excluded */
};

void breaker_init(struct breaker *b, int threshold, int64_t probe_ms,
                  int64_t probe_max_ms);
/* Records a call's result. Returns true if the state changed. */
bool breaker_record(struct breaker *b, enum breaker_event ev, int64_t code,
                    int64_t now_ms);
/* May a call go out now? While open, true once per probe interval (the
 * caller then marks it with breaker_probe_sent()). */
bool breaker_allow(const struct breaker *b, int64_t now_ms);
void breaker_probe_sent(struct breaker *b, int64_t now_ms);
/* ms until the next probe may go (0 when closed or due). */
int64_t breaker_wait_ms(const struct breaker *b, int64_t now_ms);
/* Total time spent open, including the current open period. */
int64_t breaker_open_ms(const struct breaker *b, int64_t now_ms);

#endif
