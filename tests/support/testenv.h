/* testenv.h - what integration tests share: where the test broker is,
 * fresh topics, and small helpers. Failures abort the test with a message
 * (these run under cmocka, which reports them). */
#ifndef ZB_TESTENV_H
#define ZB_TESTENV_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* The broker started by scripts/kafka-local for this build tree
 * ($KAFKA_LOCAL_DIR/bootstrap). Never NULL: fails the test instead. */
const char *testenv_bootstrap(void);
/* A topic name unique to this process and call: "<prefix>.<pid>.<n>". */
void testenv_unique(const char *prefix, char *out, size_t n);
/* Creates a topic (replication 1) through librdkafka's admin API. */
void testenv_create_topic(const char *name, int partitions);
/* The same with one topic config (e.g. max.message.bytes). */
void testenv_create_topic_config(const char *name, int partitions,
                                 const char *key, const char *value);
/* Deletes a topic through librdkafka's admin API. */
void testenv_delete_topic(const char *name);
/* A librdkafka conf with bootstrap.servers set. Caller owns it. */
rd_kafka_conf_t *testenv_kafka_conf(void);
/* Sets a librdkafka property or fails the test. */
void testenv_conf_set(rd_kafka_conf_t *conf, const char *k, const char *v);

#endif

/* Child processes (zimsim, bridges) still running are killed (SIGKILL)
 * and reaped here: use as every test's cmocka teardown, so a failed test
 * leaves nothing behind. Also runs at exit. Returns 0. */
int testenv_teardown(void **state);

/* ---- zimsim ---- */
#include "buf.h"

#include <stdint.h>
#include <sys/types.h>

#define TESTENV_APP_ID 3000000001u /* above 2^31 on purpose */
#define TESTENV_SECRET "0f1e2d3c4b5a69788796a5b4c3d2e1f0"

struct zimsim {
    pid_t pid;
    char url[128];
    char dir[256]; /* its files: secret, users, groups */
};

/* Starts build/zimsim with the test AppId and secret, a users file with
 * users (space-separated; NULL: every user exists), a groups file with
 * groups ("g1: u1 u2;g2: u3"; NULL: every group exists), and the extra
 * argv (NULL-terminated, may be NULL). Fails the test on error. */
void testenv_zimsim_start(struct zimsim *zs, const char *users,
                          const char *groups, const char *const *extra);
void testenv_zimsim_stop(struct zimsim *zs); /* SIGTERM, waits */

/* One HTTP request through libcurl. body NULL: GET. out gets the response
 * body. Returns the HTTP status, or -CURLcode on transport failure.
 * ca_file: trust this CA (HTTPS), NULL for the defaults. */
long testenv_http(const char *method, const char *url, const char *body,
                  const char *ca_file, struct buf *out);
/* A signed ZIM call to zs: action, JSON body. Returns as testenv_http. */
long testenv_zim_call(const struct zimsim *zs, const char *action,
                      const char *body, struct buf *out);
/* The integer after "\"Code\":" in a response, or INT64_MIN. */
int64_t testenv_code(const struct buf *resp);
/* POST /_sim/control with json; fails the test unless it answers 200. */
void testenv_zimsim_control(const struct zimsim *zs, const char *json);

/* ---- the bridge and its topics ---- */

/* A fresh set of the six topics (peer, group, broadcast, room:
 * `partitions` each; reply and dlq: 3) and a fresh consumer group name. */
struct topics {
    char peer[96], group[96], broadcast[96], room[96], reply[96], dlq[96];
    char group_id[96];
};
void testenv_topics(struct topics *t, int partitions);

struct bridge {
    pid_t pid;
    char conf[512], log[512];
};
/* Starts build/zimbridge run with a config for zs and t plus extra
 * `key = value` lines (may be NULL). Its log goes to b->log. */
void testenv_bridge_start(struct bridge *b, const struct zimsim *zs,
                          const struct topics *t, const char *extra_conf);
/* Starts argv (argv[0]: a path) as a child, with stderr to log and the
 * test's environment, tracked like a bridge: stop it with
 * testenv_bridge_stop(). */
void testenv_spawn(struct bridge *b, char *const argv[], const char *log);
/* The port of the bridge's /metrics listener (from its log). */
int testenv_bridge_port(const struct bridge *b);
/* GET the bridge's /metrics into out (init'ed by the caller); fails the
 * test unless it answers 200. */
void testenv_metrics(const struct bridge *b, struct buf *out);
/* How many times needle occurs in the memory of process pid (every
 * readable mapping up to 1 GiB: larger ones are ASan's shadow, reserved
 * and not data; through /proc/PID/mem: needs ptrace rights over it,
 * which root has even for a non-dumpable process); fails the test, naming
 * the reason, when it cannot read it. */
long testenv_mem_count(pid_t pid, const char *needle);
/* Sends sig and waits; returns the exit status (or 128+signal). */
int testenv_bridge_stop(struct bridge *b, int sig);

/* A record read back from a topic. */
struct rec {
    char *key, *value;
    int32_t partition;
    int64_t offset;
    rd_kafka_headers_t *hdrs;
};
struct recs {
    struct rec *v;
    size_t n, cap;
};
/* Reads topic from the beginning until want records arrived (or, want 0,
 * until idle_ms of silence) or timeout_ms passed. */
void testenv_read_topic(const char *topic, size_t want, int idle_ms,
                        int timeout_ms, struct recs *out);
void testenv_recs_free(struct recs *r);
/* The header's value as a NUL-terminated string (static buffer), or NULL. */
const char *testenv_header(const struct rec *r, const char *name);

/* A producer for test input (idempotent, acks=all). */
rd_kafka_t *testenv_producer(void);
/* The same, taking records up to max_bytes (message.max.bytes). */
rd_kafka_t *testenv_producer_max(int max_bytes);
/* Produces key/value (with optional NULL-terminated name,value,... header
 * pairs) and fails the test on error; flush with testenv_flush(). */
void testenv_produce(rd_kafka_t *p, const char *topic, const char *key,
                     const char *value, const char *const *headers);
void testenv_flush(rd_kafka_t *p);
/* Produces peer events i = from..to-1 (u1 -> u2) to topic, keyed
 * "k<i % keys>", with the text "<marker><i>. " and a text of the
 * multilingual corpus (see testenv_count_markers()), and flushes. */
void testenv_produce_peers(const char *topic, int from, int to, int keys,
                           const char *marker);
/* The same with the caller's producer (kept across paced batches). */
void testenv_produce_peers_with(rd_kafka_t *p, const char *topic, int from,
                                int to, int keys, const char *marker);
/* Chat text i (any i) of the multilingual corpus, escaped for the inside
 * of a JSON string: test traffic is never all ASCII. */
const char *testenv_chat_text(int i);
/* Sum over the topic's partitions of (end offset - committed offset) for
 * group; 0 means every record is committed. */
int64_t testenv_uncommitted(const char *group, const char *topic);
/* Waits until testenv_uncommitted() is 0; fails the test after
 * timeout_s. */
void testenv_wait_committed(const char *group, const char *topic,
                            int timeout_s);
/* GET zs/path into out (fails the test unless 200). */
void testenv_zimsim_get(const struct zimsim *zs, const char *path,
                        struct buf *out);
/* From zimsim's /_sim/stats text: the number after field (e.g.
 * "\"accepted\":") in the object of action (e.g. "\"SendPeerMessage\"");
 * fails the test if either is missing. */
long testenv_sim_stat(const char *stats, const char *action, const char *field);
/* From zimsim's /_sim/messages text: seconds between the first and the
 * last arrival (0 with fewer than two). */
double testenv_arrival_span_s(const char *messages);
/* Wall-clock seconds, with microseconds. */
double testenv_now(void);
/* Lines of the file at path that contain needle (0 if unreadable). */
int testenv_file_count(const char *path, const char *needle);
/* counts[i] = how many times "<prefix><i>." occurs in log, 0 <= i < n. */
void testenv_count_markers(const char *log, const char *prefix, int *counts,
                           int n);
/* A fresh folder (the caller removes it) with a CA (ca.crt, ca.key) and a
 * server certificate it signed for 127.0.0.1 and localhost (srv.crt,
 * srv.key, and server.pem = key + certificate). */
void testenv_make_certs(char *dir, size_t n);
/* The process's resident set (VmRSS) in KiB, or -1. */
long testenv_rss_kb(pid_t pid);
/* Counts lines of text containing needle. */
size_t testenv_count_lines(const char *text, const char *needle);
