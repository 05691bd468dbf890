/* testjob.h - a bridge job made from bytes, without Kafka: a record the
 * test owns (no librdkafka message), parsed and prepared as the service
 * does (bridge/service.c, on_record). For the call builder's unit tests
 * and its fuzz target. */
#ifndef ZB_TESTJOB_H
#define ZB_TESTJOB_H

#include "event.h"
#include "job.h"

#include <stdbool.h>
#include <stddef.h>

/* The job for data as a record of kind, or NULL when the event is not
 * valid (err says why; may be NULL). pack: as pack.enabled. */
struct job *testjob_new(const char *data, size_t len, enum event_kind kind,
                        const struct event_limits *lim, bool pack,
                        struct event_error *err);
void testjob_free(struct job *j); /* NULL: no-op */
/* The default limits (an empty config's), with max_recipients set. */
struct event_limits testjob_limits(size_t max_recipients);

#endif
