/* rotate.c - secret files read again when they change. */
#define LOG_COMPONENT "rotate"
#include "rotate.h"

#include "fileio.h"
#include "log.h"

int rotate_init(struct rotate *r, const struct config *cfg, int64_t now_ms)
{
    r->next_ms = now_ms + 1000;
    if (filewatch_init(&r->zim_secret, cfg->secret_file) == -1 ||
        filewatch_init(&r->zim_ca, cfg->ca_file) == -1 ||
        filewatch_init(&r->sasl, cfg->sasl_password_file) == -1) {
        rotate_free(r);
        return -1;
    }
    return 0;
}

void rotate_free(struct rotate *r)
{
    filewatch_free(&r->zim_secret);
    filewatch_free(&r->zim_ca);
    filewatch_free(&r->sasl);
}

/* The secret in w's file, or NULL (logged; looked at again next time: a
 * file caught half-written, or emptied, keeps the old secret). */
static char *read_changed(struct filewatch *w, const char *key)
{
    char *secret = NULL, err[512];
    if (file_read_secret(w->path, &secret, err, sizeof(err)) == 0)
        return secret;
    log_warnx("%s changed but cannot be read (%s); keeping the old one and "
              "looking again",
              key, err);
    filewatch_retry(w);
    return NULL;
}

static void reload_zim_secret(struct rotate *r, const struct config *cfg,
                              struct zim_client *zc, struct metrics *m,
                              struct record_mac_key *mac,
                              struct record_claim_key *claim)
{
    char *secret = read_changed(&r->zim_secret, "zim.server_secret_file");
    if (secret == NULL)
        return;
    const char *group = config_kafka_get(cfg, "group.id");
    struct record_mac_key k;
    struct record_claim_key ck = {0};
    if (record_mac_derive(&k, secret, cfg->app_id) == 0 &&
        record_claim_derive(&ck, &k, group ? group : "") == 0 &&
        zim_client_set_secret(zc, secret) == 0) {
        record_mac_forget(mac); /* the old keys and their states */
        record_claim_forget(claim);
        *mac = k;
        *claim = ck;
        k = (struct record_mac_key){0}; /* moved: forgotten below as empty */
        ck = (struct record_claim_key){0};
        metrics_reload(m, METRICS_ZIM_SECRET);
        log_info("zim.server_secret_file %s changed: the next calls are "
                 "signed with the new ServerSecret",
                 r->zim_secret.path);
    } else {
        filewatch_retry(&r->zim_secret);
    }
    record_mac_forget(&k);
    record_claim_forget(&ck);
    file_free_secret(secret);
}

static void reload_sasl(struct rotate *r, const struct config *cfg,
                        struct kafka_in *ki, struct kafka_out *ko,
                        struct metrics *m)
{
    char err[512], *pw = read_changed(&r->sasl, "sasl.password_file");
    if (pw == NULL)
        return;
    if (kafka_in_credentials(ki, cfg, pw, err, sizeof(err)) == -1 ||
        kafka_out_credentials(ko, cfg, pw, err, sizeof(err)) == -1) {
        log_warnx("sasl.password_file changed but librdkafka refused it: %s",
                  err);
    } else {
        metrics_reload(m, METRICS_KAFKA_SASL);
        log_info("sasl.password_file %s changed: the next Kafka "
                 "authentication uses the new password",
                 r->sasl.path);
    }
    file_free_secret(pw);
}

void rotate_check(struct rotate *r, const struct config *cfg,
                  struct zim_client *zc, struct kafka_in *ki,
                  struct kafka_out *ko, struct metrics *m,
                  struct record_mac_key *mac, struct record_claim_key *claim,
                  int64_t now_ms)
{
    if (now_ms < r->next_ms)
        return;
    r->next_ms = now_ms + 1000;
    if (filewatch_changed(&r->zim_secret))
        reload_zim_secret(r, cfg, zc, m, mac, claim);
    if (filewatch_changed(&r->zim_ca)) {
        metrics_reload(m, METRICS_ZIM_CA);
        log_info("zim.tls.ca_file %s changed: new connections to ZIM trust "
                 "it",
                 r->zim_ca.path);
    }
    if (filewatch_changed(&r->sasl))
        reload_sasl(r, cfg, ki, ko, m);
}
