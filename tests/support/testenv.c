#define _GNU_SOURCE /* memmem */
/* testenv.c - shared integration-test helpers. */
#include "testenv.h"

#include "corpus.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

const char *testenv_bootstrap(void)
{
    static char addr[256];
    if (addr[0])
        return addr;
    const char *env = getenv("ZB_KAFKA_BOOTSTRAP");
    if (env && env[0]) {
        snprintf(addr, sizeof(addr), "%s", env);
        return addr;
    }
    const char *dir = getenv("KAFKA_LOCAL_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/bootstrap", dir ? dir : ".");
    FILE *f = fopen(path, "r");
    if (f == NULL || fgets(addr, sizeof(addr), f) == NULL)
        fail_msg("no test broker: %s unreadable (run under ctest, which "
                 "starts scripts/kafka-local)",
                 path);
    fclose(f);
    addr[strcspn(addr, "\r\n")] = '\0';
    return addr;
}

void testenv_unique(const char *prefix, char *out, size_t n)
{
    static int seq;
    snprintf(out, n, "%s.%ld.%d", prefix, (long)getpid(), ++seq);
}

void testenv_conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[512];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        fail_msg("conf %s=%s: %s", k, v, err);
}

rd_kafka_conf_t *testenv_kafka_conf(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    testenv_conf_set(conf, "bootstrap.servers", testenv_bootstrap());
    return conf;
}

/* Runs one admin operation (create or delete) and fails the test on error. */
static void admin_topic(const char *name, int partitions, const char *ck,
                        const char *cv)
{
    char err[512];
    rd_kafka_t *rk =
        rd_kafka_new(RD_KAFKA_PRODUCER, testenv_kafka_conf(), err, sizeof(err));
    if (rk == NULL)
        fail_msg("admin client: %s", err);
    bool create = partitions > 0;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(rk, create ? RD_KAFKA_ADMIN_OP_CREATETOPICS
                                             : RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 30000, err, sizeof(err));
    rd_kafka_NewTopic_t *nt = NULL;
    rd_kafka_DeleteTopic_t *dt = NULL;
    if (create) {
        nt = rd_kafka_NewTopic_new(name, partitions, 1, err, sizeof(err));
        if (nt == NULL)
            fail_msg("NewTopic %s: %s", name, err);
        if (ck && rd_kafka_NewTopic_set_config(nt, ck, cv))
            fail_msg("NewTopic %s: config %s", name, ck);
        rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    } else {
        dt = rd_kafka_DeleteTopic_new(name);
        rd_kafka_DeleteTopics(rk, &dt, 1, opts, q);
    }
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
    if (ev == NULL)
        fail_msg("admin %s: no answer in 60 s", name);
    if (rd_kafka_event_error(ev))
        fail_msg("admin %s: %s", name, rd_kafka_event_error_string(ev));
    size_t n = 0;
    const rd_kafka_topic_result_t **tr =
        create ? rd_kafka_CreateTopics_result_topics(
                     rd_kafka_event_CreateTopics_result(ev), &n)
               : rd_kafka_DeleteTopics_result_topics(
                     rd_kafka_event_DeleteTopics_result(ev), &n);
    for (size_t i = 0; i < n; i++)
        if (rd_kafka_topic_result_error(tr[i]))
            fail_msg("admin %s: %s", name,
                     rd_kafka_topic_result_error_string(tr[i]));
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    if (nt)
        rd_kafka_NewTopic_destroy(nt);
    if (dt)
        rd_kafka_DeleteTopic_destroy(dt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

void testenv_create_topic(const char *name, int partitions)
{
    admin_topic(name, partitions, NULL, NULL);
}

void testenv_create_topic_config(const char *name, int partitions,
                                 const char *key, const char *value)
{
    admin_topic(name, partitions, key, value);
}

void testenv_delete_topic(const char *name)
{
    admin_topic(name, 0, NULL, NULL);
}

/* ---- zimsim ---- */
#include "rng.h"
#include "zim_sign.h"

#include <curl/curl.h>
#include <signal.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static pid_t children[64];
static char dirs[8][256]; /* zimsim folders to remove at teardown */

static void child_add(pid_t pid)
{
    static int registered;
    if (!registered) {
        atexit((void (*)(void))testenv_teardown);
        registered = 1;
    }
    for (int i = 0; i < 64; i++) {
        if (children[i] == 0) {
            children[i] = pid;
            return;
        }
    }
}

static void child_forget(pid_t pid)
{
    for (int i = 0; i < 64; i++)
        if (children[i] == pid)
            children[i] = 0;
}

int testenv_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 64; i++) {
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
    }
    /* A folder still here means the test failed before stopping its
     * zimsim: show the end of each bridge's log, for the CI log. With
     * ZB_TEST_KEEP=1 the folder stays, for a closer look. */
    const char *keep = getenv("ZB_TEST_KEEP");
    for (int i = 0; i < 8; i++) {
        if (dirs[i][0]) {
            char cmd[4096];
            snprintf(cmd, sizeof(cmd),
                     "for f in '%s'/bridge*.log; do [ -f \"$f\" ] && "
                     "echo \"--- last lines of $f\" && tail -n 30 \"$f\"; "
                     "done >&2",
                     dirs[i]);
            if (system(cmd) != 0)
                fprintf(stderr, "teardown: no bridge log in %s\n", dirs[i]);
            if (keep && strcmp(keep, "1") == 0) {
                fprintf(stderr, "teardown: kept %s\n", dirs[i]);
            } else {
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dirs[i]);
                if (system(cmd) != 0)
                    fprintf(stderr, "teardown: could not remove %s\n", dirs[i]);
            }
            dirs[i][0] = '\0';
        }
    }
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        fail_msg("cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

void testenv_zimsim_start(struct zimsim *zs, const char *users,
                          const char *groups, const char *const *extra)
{
    char path[512], bin[512];
    memset(zs, 0, sizeof(*zs));
    snprintf(zs->dir, sizeof(zs->dir), "/tmp/zbsim.%ld.XXXXXX", (long)getpid());
    if (mkdtemp(zs->dir) == NULL)
        fail_msg("mkdtemp failed");
    for (int i = 0; i < 8; i++) {
        if (dirs[i][0] == '\0') {
            snprintf(dirs[i], sizeof(dirs[i]), "%s", zs->dir);
            break;
        }
    }
    const char *argv[64];
    int n = 0;
    const char *bd = getenv("ZB_BUILD_DIR");
    snprintf(bin, sizeof(bin), "%s/zimsim", bd ? bd : ".");
    char appid[16], secret_path[512], users_path[512], groups_path[512];
    snprintf(appid, sizeof(appid), "%u", TESTENV_APP_ID);
    snprintf(secret_path, sizeof(secret_path), "%s/secret", zs->dir);
    write_file(secret_path, TESTENV_SECRET "\n");
    argv[n++] = bin;
    argv[n++] = "--app-id";
    argv[n++] = appid;
    argv[n++] = "--secret-file";
    argv[n++] = secret_path;
    if (users) {
        snprintf(users_path, sizeof(users_path), "%s/users", zs->dir);
        char *u = strdup(users);
        for (char *p = u; *p; p++)
            if (*p == ' ')
                *p = '\n';
        write_file(users_path, u);
        free(u);
        argv[n++] = "--users";
        argv[n++] = users_path;
    }
    if (groups) {
        snprintf(groups_path, sizeof(groups_path), "%s/groups", zs->dir);
        char *g = strdup(groups);
        for (char *p = g; *p; p++)
            if (*p == ';')
                *p = '\n';
        write_file(groups_path, g);
        free(g);
        argv[n++] = "--groups";
        argv[n++] = groups_path;
    }
    for (int i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    (void)path;

    int fds[2];
    if (pipe(fds) != 0)
        fail_msg("pipe failed");
    zs->pid = fork();
    if (zs->pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    child_add(zs->pid);
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    if (f == NULL || fgets(zs->url, sizeof(zs->url), f) == NULL)
        fail_msg("zimsim (%s) printed no URL", bin);
    fclose(f);
    zs->url[strcspn(zs->url, "\r\n")] = '\0';
}

void testenv_zimsim_stop(struct zimsim *zs)
{
    if (zs->pid > 0) {
        kill(zs->pid, SIGTERM);
        int st = 0;
        waitpid(zs->pid, &st, 0);
        child_forget(zs->pid);
        zs->pid = 0;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            fail_msg("zimsim did not exit cleanly (status %d)", st);
    }
    if (zs->dir[0]) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", zs->dir);
        if (system(cmd) != 0)
            fail_msg("cleanup of %s failed", zs->dir);
        for (int i = 0; i < 8; i++)
            if (strcmp(dirs[i], zs->dir) == 0)
                dirs[i][0] = '\0';
        zs->dir[0] = '\0';
    }
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct buf *b = ud;
    return buf_append(b, p, sz * n) == 0 ? sz * n : 0;
}

long testenv_http(const char *method, const char *url, const char *body,
                  const char *ca_file, struct buf *out)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs =
        curl_slist_append(NULL, "Content-Type: application/json");
    buf_reset(out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? status : -(long)rc;
}

long testenv_zim_call(const struct zimsim *zs, const char *action,
                      const char *body, struct buf *out)
{
    unsigned char rnd[ZIM_NONCE_BYTES];
    struct buf url;
    buf_init(&url, 1024);
    if (rng_secure(rnd, sizeof(rnd)) == -1 ||
        zim_sign_url(&url, zs->url, action, TESTENV_APP_ID, TESTENV_SECRET, rnd,
                     (int64_t)time(NULL)) == -1)
        fail_msg("signing failed");
    long st = testenv_http("POST", url.data, body, NULL, out);
    buf_free(&url);
    return st;
}

int64_t testenv_code(const struct buf *resp)
{
    const char *p = resp->data ? strstr(resp->data, "\"Code\":") : NULL;
    return p ? strtoll(p + 7, NULL, 10) : INT64_MIN;
}

void testenv_zimsim_control(const struct zimsim *zs, const char *json)
{
    char url[256];
    struct buf out;
    buf_init(&out, 4096);
    snprintf(url, sizeof(url), "%s/_sim/control", zs->url);
    long st = testenv_http("POST", url, json, NULL, &out);
    if (st != 200)
        fail_msg("control %s: %ld %s", json, st, out.data ? out.data : "");
    buf_free(&out);
}

/* ---- the bridge and its topics ---- */

void testenv_topics(struct topics *t, int partitions)
{
    testenv_unique("t.peer", t->peer, sizeof(t->peer));
    testenv_unique("t.group", t->group, sizeof(t->group));
    testenv_unique("t.broadcast", t->broadcast, sizeof(t->broadcast));
    testenv_unique("t.room", t->room, sizeof(t->room));
    testenv_unique("t.reply", t->reply, sizeof(t->reply));
    testenv_unique("t.dlq", t->dlq, sizeof(t->dlq));
    testenv_unique("g", t->group_id, sizeof(t->group_id));
    testenv_create_topic(t->peer, partitions);
    testenv_create_topic(t->group, partitions);
    testenv_create_topic(t->broadcast, partitions);
    testenv_create_topic(t->room, partitions);
    testenv_create_topic(t->reply, 3);
    testenv_create_topic(t->dlq, 3);
}

void testenv_bridge_start(struct bridge *b, const struct zimsim *zs,
                          const struct topics *t, const char *extra_conf)
{
    static int seq;
    char bin[512];
    const char *bd = getenv("ZB_BUILD_DIR");
    snprintf(bin, sizeof(bin), "%s/zimbridge", bd ? bd : ".");
    snprintf(b->conf, sizeof(b->conf), "%s/bridge%d.conf", zs->dir, ++seq);
    snprintf(b->log, sizeof(b->log), "%s/bridge%d.log", zs->dir, seq);
    FILE *f = fopen(b->conf, "w");
    if (f == NULL)
        fail_msg("cannot write %s", b->conf);
    fprintf(f,
            "kafka.bootstrap.servers = %s\nkafka.group.id = %s\n"
            "kafka.session.timeout.ms = 6000\n"
            "kafka.heartbeat.interval.ms = 500\n"
            "kafka.auto.commit.interval.ms = 200\n"
            "zim.endpoint = %s\nzim.app_id = %u\n"
            "zim.server_secret_file = %s/secret\n"
            "topics.peer = %s\ntopics.group = %s\ntopics.broadcast = %s\n"
            "topics.room = %s\ntopics.reply = %s\ntopics.dlq = %s\n"
            "log.level = debug\nhttp.listen = 127.0.0.1:0\n%s\n",
            testenv_bootstrap(), t->group_id, zs->url, TESTENV_APP_ID, zs->dir,
            t->peer, t->group, t->broadcast, t->room, t->reply, t->dlq,
            extra_conf ? extra_conf : "");
    fclose(f);
    b->pid = fork();
    if (b->pid == 0) {
        FILE *lf = freopen(b->log, "a", stderr);
        (void)lf;
        /* ZB_BRIDGE_WRAPPER: a command line the bridge runs under, e.g.
         * valgrind (space-separated words; {n} becomes the bridge's
         * number, for per-run log files). */
        const char *w = getenv("ZB_BRIDGE_WRAPPER");
        char words[2048], *argv[40];
        int argc = 0;
        if (w && w[0]) {
            snprintf(words, sizeof(words), "%s", w);
            for (char *save = NULL, *word = strtok_r(words, " ", &save);
                 word && argc < 34; word = strtok_r(NULL, " ", &save)) {
                char *n = strstr(word, "{n}");
                if (n) {
                    static char sub[8][512];
                    int k = argc % 8;
                    snprintf(sub[k], sizeof(sub[k]), "%.*s%d%s",
                             (int)(n - word), word, seq, n + 3);
                    word = sub[k];
                }
                argv[argc++] = word;
            }
        }
        argv[argc++] = bin;
        argv[argc++] = "run";
        argv[argc++] = "--config";
        argv[argc++] = b->conf;
        argv[argc] = NULL;
        execvp(argv[0], argv);
        _exit(127);
    }
    child_add(b->pid);
}

void testenv_spawn(struct bridge *b, char *const argv[], const char *log)
{
    snprintf(b->log, sizeof(b->log), "%s", log);
    b->conf[0] = '\0';
    b->pid = fork();
    if (b->pid == 0) {
        FILE *lf = freopen(log, "a", stderr);
        (void)lf;
        execv(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (b->pid < 0)
        fail_msg("fork: %s", strerror(errno));
    child_add(b->pid);
}

int testenv_bridge_stop(struct bridge *b, int sig)
{
    int st = 0;
    if (b->pid <= 0)
        return -1;
    kill(b->pid, sig);
    waitpid(b->pid, &st, 0);
    child_forget(b->pid);
    b->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *dupn(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (p && n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

void testenv_read_topic(const char *topic, size_t want, int idle_ms,
                        int timeout_ms, struct recs *out)
{
    char err[512], gid[96];
    memset(out, 0, sizeof(*out));
    testenv_unique("reader", gid, sizeof(gid));
    rd_kafka_conf_t *conf = testenv_kafka_conf();
    testenv_conf_set(conf, "group.id", gid);
    testenv_conf_set(conf, "auto.offset.reset", "earliest");
    testenv_conf_set(conf, "enable.auto.commit", "false");
    testenv_conf_set(conf, "isolation.level", "read_committed");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL)
        fail_msg("reader: %s", err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long last = 0;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long el = (t1.tv_sec - t0.tv_sec) * 1000 +
                  (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (el > timeout_ms || (want && out->n >= want))
            break;
        if (!want && out->n && el - last > idle_ms)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (m->err) {
            rd_kafka_message_destroy(m);
            continue;
        }
        last = el;
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 256;
            out->v = realloc(out->v, out->cap * sizeof(*out->v));
        }
        struct rec *r = &out->v[out->n++];
        r->key = dupn(m->key, m->key_len);
        r->value = dupn(m->payload, m->len);
        r->partition = m->partition;
        r->offset = m->offset;
        rd_kafka_headers_t *h = NULL;
        r->hdrs = rd_kafka_message_detach_headers(m, &h) == 0 ? h : NULL;
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

void testenv_recs_free(struct recs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].key);
        free(r->v[i].value);
        if (r->v[i].hdrs)
            rd_kafka_headers_destroy(r->v[i].hdrs);
    }
    free(r->v);
    memset(r, 0, sizeof(*r));
}

const char *testenv_header(const struct rec *r, const char *name)
{
    static char val[1024];
    const void *v = NULL;
    size_t n = 0;
    if (r->hdrs == NULL || rd_kafka_header_get_last(r->hdrs, name, &v, &n) != 0)
        return NULL;
    if (n >= sizeof(val))
        n = sizeof(val) - 1;
    memcpy(val, v, n);
    val[n] = '\0';
    return val;
}

rd_kafka_t *testenv_producer(void)
{
    return testenv_producer_max(0);
}

rd_kafka_t *testenv_producer_max(int max_bytes)
{
    char err[512], num[32];
    rd_kafka_conf_t *conf = testenv_kafka_conf();
    testenv_conf_set(conf, "enable.idempotence", "true");
    testenv_conf_set(conf, "linger.ms", "5");
    if (max_bytes > 0) {
        snprintf(num, sizeof(num), "%d", max_bytes);
        testenv_conf_set(conf, "message.max.bytes", num);
    }
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (p == NULL)
        fail_msg("producer: %s", err);
    return p;
}

void testenv_produce(rd_kafka_t *p, const char *topic, const char *key,
                     const char *value, const char *const *headers)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(4);
    for (int i = 0; headers && headers[i] && headers[i + 1]; i += 2)
        rd_kafka_header_add(h, headers[i], -1, headers[i + 1], -1);
    rd_kafka_resp_err_t e;
    for (;;) {
        e = rd_kafka_producev(
            p, RD_KAFKA_V_TOPIC(topic),
            RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
            RD_KAFKA_V_VALUE((void *)value, value ? strlen(value) : 0),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            break;
        rd_kafka_poll(p, 10);
    }
    if (e) {
        rd_kafka_headers_destroy(h);
        fail_msg("produce to %s: %s", topic, rd_kafka_err2str(e));
    }
}

void testenv_flush(rd_kafka_t *p)
{
    if (rd_kafka_flush(p, 30000) != 0)
        fail_msg("flush timed out");
}

int64_t testenv_uncommitted(const char *group, const char *topic)
{
    char err[512];
    rd_kafka_conf_t *conf = testenv_kafka_conf();
    testenv_conf_set(conf, "group.id", group);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != 0 || md->topic_cnt != 1)
        fail_msg("metadata for %s failed", topic);
    int parts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new(parts);
    for (int i = 0; i < parts; i++)
        rd_kafka_topic_partition_list_add(l, topic, i);
    if (rd_kafka_committed(rk, l, 10000) != 0)
        fail_msg("committed() for %s failed", topic);
    int64_t left = 0;
    for (int i = 0; i < parts; i++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hi, 10000);
        int64_t c = l->elems[i].offset < 0 ? lo : l->elems[i].offset;
        left += hi - c;
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return left;
}

void testenv_zimsim_get(const struct zimsim *zs, const char *path,
                        struct buf *out)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", zs->url, path);
    long st = testenv_http("GET", url, NULL, NULL, out);
    if (st != 200)
        fail_msg("GET %s: %ld", path, st);
}

size_t testenv_count_lines(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (memmem(p, len, needle, strlen(needle)))
            n++;
        p += len + (nl != NULL);
    }
    return n;
}

int testenv_bridge_port(const struct bridge *b)
{
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(b->log, "r");
        char line[1024];
        while (f && fgets(line, sizeof(line), f)) {
            const char *p = strstr(line, "-> port ");
            if (p) {
                fclose(f);
                return atoi(p + 8);
            }
        }
        if (f)
            fclose(f);
        usleep(50000);
    }
    fail_msg("bridge %s logged no metrics port", b->log);
    return -1;
}

void testenv_metrics(const struct bridge *b, struct buf *out)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics",
             testenv_bridge_port(b));
    long st = testenv_http("GET", url, NULL, NULL, out);
    if (st != 200)
        fail_msg("GET %s: %ld", url, st);
}

double testenv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int testenv_file_count(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int n = 0;
    while (f && fgets(line, sizeof(line), f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

void testenv_count_markers(const char *log, const char *prefix, int *counts,
                           int n)
{
    size_t pl = strlen(prefix);
    memset(counts, 0, (size_t)n * sizeof(*counts));
    for (const char *p = log; p && (p = strstr(p, prefix)); p += pl) {
        char *end = NULL;
        long i = strtol(p + pl, &end, 10);
        if (end && *end == '.' && i >= 0 && i < n)
            counts[i]++;
    }
}

long testenv_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

const char *testenv_chat_text(int i)
{
    static struct corpus c;
    static char(*esc)[1024];
    static size_t n;
    if (esc == NULL) {
        corpus_load(&c);
        esc = calloc(c.n, sizeof(*esc));
        assert_non_null(esc);
        for (size_t k = 0; k < c.n; k++)
            if (c.v[k].valid)
                corpus_json_escape(&c.v[k], esc[n++], sizeof(esc[0]));
    }
    return esc[(size_t)i % n];
}

void testenv_produce_peers_with(rd_kafka_t *p, const char *topic, int from,
                                int to, int keys, const char *marker)
{
    char key[32], val[2048];
    for (int i = from; i < to; i++) {
        snprintf(key, sizeof(key), "k%d", i % keys);
        snprintf(val, sizeof(val),
                 "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
                 "\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
                 "{\"Message\":\"%s%d. %s\"}}",
                 marker, i, testenv_chat_text(i));
        testenv_produce(p, topic, key, val, NULL);
    }
    testenv_flush(p);
}

void testenv_produce_peers(const char *topic, int from, int to, int keys,
                           const char *marker)
{
    rd_kafka_t *p = testenv_producer();
    testenv_produce_peers_with(p, topic, from, to, keys, marker);
    rd_kafka_destroy(p);
}

void testenv_make_certs(char *dir, size_t n)
{
    char cmd[2048];
    snprintf(dir, n, "/tmp/zbtlsXXXXXX");
    if (mkdtemp(dir) == NULL)
        fail_msg("mkdtemp failed");
    snprintf(cmd, sizeof(cmd),
             "cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
             "-subj /CN=zimbridge-test-ca -keyout ca.key -out ca.crt "
             ">/dev/null 2>&1 && openssl req -newkey rsa:2048 -nodes "
             "-subj /CN=127.0.0.1 -keyout srv.key -out srv.csr >/dev/null "
             "2>&1 && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' "
             "> ext && openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key "
             "-CAcreateserial -days 2 -extfile ext -out srv.crt >/dev/null "
             "2>&1 && cat srv.key srv.crt > server.pem",
             dir);
    if (system(cmd) != 0)
        fail_msg("making certificates with openssl failed");
}

void testenv_wait_committed(const char *group, const char *topic, int timeout_s)
{
    int64_t left = -1;
    for (int i = 0; i < timeout_s * 5 && left != 0; i++) {
        left = testenv_uncommitted(group, topic);
        if (left)
            usleep(200000);
    }
    if (left != 0)
        fail_msg("%lld records of %s still uncommitted after %d s",
                 (long long)left, topic, timeout_s);
}

long testenv_sim_stat(const char *stats, const char *action, const char *field)
{
    const char *a = strstr(stats, action);
    assert_non_null(a);
    const char *f = strstr(a, field);
    assert_non_null(f);
    return strtol(f + strlen(field), NULL, 10);
}

double testenv_arrival_span_s(const char *messages)
{
    long long first = -1, last = -1;
    for (const char *l = strstr(messages, "\"arrival_us\":"); l;
         l = strstr(l + 1, "\"arrival_us\":")) {
        long long us = strtoll(l + 13, NULL, 10);
        if (first < 0 || us < first)
            first = us;
        if (us > last)
            last = us;
    }
    return first < 0 ? 0 : (double)(last - first) / 1e6;
}

long testenv_mem_count(pid_t pid, const char *needle)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(path, "r");
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
    int mem = open(path, O_RDONLY);
    if (maps == NULL || mem < 0)
        fail_msg("cannot read the memory of pid %d (%s): run the tests as "
                 "root, or with CAP_SYS_PTRACE",
                 (int)pid, strerror(errno));
    size_t nl = strlen(needle);
    long found = 0, regions = 0;
    char line[512];
    char *chunk = malloc((1 << 20) + nl);
    assert_non_null(chunk);
    while (fgets(line, sizeof(line), maps)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
            perms[0] != 'r' || strstr(line, "[vvar]") ||
            strstr(line, "[vsyscall]") || hi - lo > (1ul << 30))
            continue; /* over 1 GiB: a sanitizer's shadow, reserved */
        regions++;
        /* Chunks overlap by the needle's length, so none is missed. */
        for (unsigned long at = lo; at < hi; at += 1 << 20) {
            size_t want = hi - at < (1ul << 20) + nl ? hi - at : (1 << 20) + nl;
            ssize_t r = pread(mem, chunk, want, (off_t)at);
            if (r <= 0)
                break; /* a guard page, or unmapped meanwhile */
            for (ssize_t i = 0; i + (ssize_t)nl <= r; i++)
                if (i < (1 << 20) && memcmp(chunk + i, needle, nl) == 0)
                    found++;
        }
    }
    free(chunk);
    fclose(maps);
    close(mem);
    if (regions == 0)
        fail_msg("no readable mapping in pid %d", (int)pid);
    return found;
}
