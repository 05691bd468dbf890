/* testenv.c - shared integration-test helpers. */
#include "testenv.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void testenv_create_topic(const char *name, int partitions)
{
    char err[512];
    rd_kafka_t *rk =
        rd_kafka_new(RD_KAFKA_PRODUCER, testenv_kafka_conf(), err, sizeof(err));
    if (rk == NULL)
        fail_msg("admin client: %s", err);
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(name, partitions, 1, err, sizeof(err));
    if (nt == NULL)
        fail_msg("NewTopic %s: %s", name, err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 30000, err, sizeof(err));
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 60000);
    if (ev == NULL)
        fail_msg("CreateTopics %s: no answer in 60 s", name);
    if (rd_kafka_event_error(ev))
        fail_msg("CreateTopics %s: %s", name, rd_kafka_event_error_string(ev));
    const rd_kafka_CreateTopics_result_t *res =
        rd_kafka_event_CreateTopics_result(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; i++)
        if (rd_kafka_topic_result_error(tr[i]))
            fail_msg("CreateTopics %s: %s", name,
                     rd_kafka_topic_result_error_string(tr[i]));
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

/* ---- zimsim ---- */
#include "zim_sign.h"

#include <curl/curl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

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
        zs->pid = 0;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            fail_msg("zimsim did not exit cleanly (status %d)", st);
    }
    if (zs->dir[0]) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", zs->dir);
        if (system(cmd) != 0)
            fail_msg("cleanup of %s failed", zs->dir);
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
    if (zim_sign_random(rnd) == -1 ||
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
