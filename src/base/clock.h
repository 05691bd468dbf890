/* clock.h - the only place that reads clocks. Modules that need time take
 * it as a parameter so their tests are deterministic. */
#ifndef ZB_CLOCK_H
#define ZB_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms(void); /* monotonic, for deadlines and rates */
int64_t clock_mono_us(void);
int64_t clock_wall_ms(void); /* Unix epoch milliseconds */
int64_t clock_wall_us(void);
/* Formats Unix ms as RFC 3339 UTC with milliseconds into out (>= 32 bytes). */
void clock_rfc3339(int64_t wall_ms, char *out, unsigned long n);

#endif
