/* bench_validate.c - events/s for event_parse (parse + validate) on a
 * typical ~300-byte peer event and on a 100-recipient one, against a
 * baseline measured in the same run: json-c parsing the same bytes and
 * nothing else. Single thread. Usage: bench_validate [seconds-per-case] */
#include "config.h"
#include "event.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run(const char *json, size_t len, const struct event_limits *lim,
                  int baseline, double secs)
{
    long n = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 1000; i++) {
            if (baseline) {
                struct json_object *o = json_tokener_parse(json);
                if (o == NULL)
                    abort();
                json_object_put(o);
            } else {
                struct event ev;
                struct event_error err;
                if (event_parse(&ev, EVENT_PEER, json, len, lim, &err) != 0) {
                    fprintf(stderr, "invalid: %s %s\n", err.field, err.message);
                    abort();
                }
                event_free(&ev);
            }
        }
        n += 1000;
        t = now_s() - t0;
    } while (t < secs);
    return (double)n / t;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    struct config cfg;
    struct event_limits lim;
    config_init(&cfg);
    event_limits_from_config(&cfg, &lim);
    config_free(&cfg);

    const char *typical =
        "{\"FromUserId\":\"user_1029384\",\"ToUserId\":[\"user_5521937\"],"
        "\"MessageType\":1,\"Priority\":2,\"MessageBody\":{\"Message\":"
        "\"Your order #A-1029 has shipped and will arrive on Tuesday. Track "
        "it in the app.\",\"ExtendedData\":\"{\\\"order\\\":\\\"A-1029\\\"}\","
        "\"OfflinePush\":{\"Enable\":1,\"Title\":\"Order shipped\","
        "\"Content\":\"Arrives Tuesday\"}},\"SendMsgOptions\":{\"NoUnread\":"
        "false}}";
    char *wide = malloc(8192);
    size_t n = (size_t)snprintf(wide, 8192,
                                "{\"FromUserId\":\"announcer\",\"ToUserId\":[");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(wide + n, 8192 - n, "%s\"member_%06d\"",
                              i ? "," : "", i);
    snprintf(wide + n, 8192 - n,
             "],\"MessageType\":1,\"Priority\":1,\"MessageBody\":{"
             "\"Message\":\"Maintenance tonight 02:00-03:00 UTC.\"}}");

    struct {
        const char *name, *json;
    } cases[] = {{"typical", typical}, {"100-recipients", wide}};
    printf("%-16s %6s %14s %14s %8s\n", "case", "bytes", "validate ev/s",
           "json-c ev/s", "ratio");
    for (size_t i = 0; i < 2; i++) {
        size_t len = strlen(cases[i].json);
        double base = run(cases[i].json, len, &lim, 1, secs);
        double val = run(cases[i].json, len, &lim, 0, secs);
        printf("%-16s %6zu %14.0f %14.0f %8.2f\n", cases[i].name, len, val,
               base, val / base);
    }
    free(wide);
    return 0;
}
