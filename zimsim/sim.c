/* sim.c - zimsim's ZIM server model (see sim.h). Deliberately does not use
 * event.c: its checks are a second, independent reading of the contract. */
#define _GNU_SOURCE   /* memmem */
#define LOG_COMPONENT "zimsim"
#include "sim.h"

#include "event_kind.h"
#include "json_strict.h"
#include "log.h"
#include "rng.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The actions by event_kind's numbers, and a slot for any other. */
enum {
    A_PEER = EVENT_PEER,
    A_GROUP = EVENT_GROUP,
    A_BROADCAST = EVENT_BROADCAST,
    A_ROOM = EVENT_ROOM,
    A_OTHER = ZB_ACTION_COUNT,
    A_COUNT
};

/* Timestamps of the last cap admitted calls: a call is admitted when fewer
 * than cap calls happened in the trailing window. This is the strictest
 * reading of "N per second": no window of that length ever holds more. */
struct ring {
    int64_t *t;
    size_t cap, n, head;
};

#define MAX_CODES 32
struct act_stats {
    int64_t requests, accepted;
    int64_t codes[MAX_CODES][2]; /* code, count */
    size_t n_codes;
    int64_t sec, sec_count, peak; /* accepted calls per wall-clock second */
};

struct sim {
    pthread_mutex_t mu;
    struct sim_options opt;
    char *secret;
    struct json_object *users;  /* set (keys); NULL: everyone exists */
    struct json_object *groups; /* id -> members; NULL: every group */
    struct json_object *rooms;  /* id -> online users (null: everyone);
                                   NULL: every room */
    struct json_object *banned; /* array of words; NULL: none */
    struct json_object *seqs;   /* conversation -> last MsgSeq */
    uint64_t next_msg_id, next_req_id, rng;
    struct ring quota[ZB_ACTION_COUNT], daily;
    struct act_stats st[A_COUNT];
    int64_t dropped, http_errors, inflight, max_inflight;
    struct buf msglog, reqlog;
    int64_t n_msglog, n_reqlog;
    /* faults */
    int64_t latency_ms, jitter_ms;
    double busy_rate, http_error_rate, drop_rate;
    int http_error_status;
    int down;
    int64_t down_until_ms;
    int64_t force_code, force_until_ms;
    struct fail_rule {
        int64_t code, count;
        char *match; /* NULL: any request */
    } fail[8];
    struct garble_rule {
        int64_t count;
        char *match, *body; /* NULL: any request; a small HTML page */
    } garble;
    int64_t garbled;
    char *success_msg;  /* the Message of Code 0 answers ("success") */
    char *audit_reason; /* a moderation reason's words; NULL: English */
};

/* ---- small helpers ---- */

static uint64_t rnd_next(struct sim *s) /* under s->mu */
{
    return rng_next(&s->rng);
}

static double rnd_unit(struct sim *s)
{
    return (double)(rnd_next(s) >> 11) / 9007199254740992.0;
}

static int ring_init(struct ring *r, size_t cap)
{
    memset(r, 0, sizeof(*r));
    if (cap == 0)
        return 0;
    r->t = calloc(cap, sizeof(*r->t));
    r->cap = cap;
    return r->t ? 0 : -1;
}

static bool ring_admit(struct ring *r, int64_t now, int64_t window)
{
    if (r->cap == 0)
        return true; /* unlimited */
    if (r->n < r->cap) {
        r->t[(r->head + r->n) % r->cap] = now;
        r->n++;
        return true;
    }
    if (now - r->t[r->head] < window)
        return false;
    r->t[r->head] = now;
    r->head = (r->head + 1) % r->cap;
    return true;
}

static void count_code(struct act_stats *a, int64_t code)
{
    for (size_t i = 0; i < a->n_codes; i++) {
        if (a->codes[i][0] == code) {
            a->codes[i][1]++;
            return;
        }
    }
    if (a->n_codes < MAX_CODES) {
        a->codes[a->n_codes][0] = code;
        a->codes[a->n_codes][1] = 1;
        a->n_codes++;
    }
}

static struct json_object *read_lines_set(const char *path, char *err,
                                          size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open", path);
        return NULL;
    }
    struct json_object *set = json_object_new_object();
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] && line[0] != '#')
            json_object_object_add(set, line, NULL);
    }
    fclose(f);
    return set;
}

/* groups file: "groupid: member member ..." per line. */
static struct json_object *read_groups(const char *path, char *err,
                                       size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open", path);
        return NULL;
    }
    struct json_object *groups = json_object_new_object();
    char line[8192];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *colon = strchr(line, ':');
        if (line[0] == '#' || colon == NULL)
            continue;
        *colon = '\0';
        struct json_object *members = json_object_new_array();
        for (char *save = NULL, *m = strtok_r(colon + 1, " \t", &save); m;
             m = strtok_r(NULL, " \t", &save))
            json_object_array_add(members, json_object_new_string(m));
        json_object_object_add(groups, line, members);
    }
    fclose(f);
    return groups;
}

/* rooms file: "roomid" or "roomid: user1,user2" (the users online in it)
 * per line. */
static struct json_object *read_rooms(const char *path, char *err,
                                      size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open", path);
        return NULL;
    }
    struct json_object *rooms = json_object_new_object();
    char line[8192];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *colon = strchr(line, ':');
        struct json_object *online = NULL;
        if (colon) {
            *colon = '\0';
            online = json_object_new_array();
            for (char *save = NULL, *u = strtok_r(colon + 1, ", \t", &save); u;
                 u = strtok_r(NULL, ", \t", &save))
                json_object_array_add(online, json_object_new_string(u));
        }
        json_object_object_add(rooms, line, online);
    }
    fclose(f);
    return rooms;
}

struct sim *sim_new(const struct sim_options *opt, char *err, size_t errlen)
{
    struct sim *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    s->opt = *opt;
    s->secret = strdup(opt->secret);
    s->opt.secret = NULL;
    s->seqs = json_object_new_object();
    s->next_msg_id = 857639062792568832ULL; /* 18 digits, above 2^53 */
    s->next_req_id = 343649807833778782ULL;
    s->rng = opt->seed ? opt->seed : 0x9e3779b97f4a7c15ULL;
    s->latency_ms = opt->latency_ms;
    s->jitter_ms = opt->jitter_ms;
    s->busy_rate = opt->busy_rate;
    s->http_error_rate = opt->http_error_rate;
    s->http_error_status = 503;
    s->drop_rate = opt->drop_rate;
    s->success_msg = strdup("success");
    buf_init(&s->msglog, (size_t)1 << 31);
    buf_init(&s->reqlog, (size_t)1 << 31);
    if (opt->users_file &&
        (s->users = read_lines_set(opt->users_file, err, errlen)) == NULL)
        goto fail;
    if (opt->groups_file &&
        (s->groups = read_groups(opt->groups_file, err, errlen)) == NULL)
        goto fail;
    if (opt->rooms_file &&
        (s->rooms = read_rooms(opt->rooms_file, err, errlen)) == NULL)
        goto fail;
    if (opt->banned_file) {
        struct json_object *set = read_lines_set(opt->banned_file, err, errlen);
        if (set == NULL)
            goto fail;
        s->banned = json_object_new_array();
        json_object_object_foreach(set, k, v)
        {
            (void)v;
            json_object_array_add(s->banned, json_object_new_string(k));
        }
        json_object_put(set);
    }
    for (int i = 0; i < ZB_ACTION_COUNT; i++)
        if (ring_init(&s->quota[i], (size_t)opt->qps[i]) == -1)
            goto oom;
    if (ring_init(&s->daily, (size_t)opt->broadcast_daily) == -1)
        goto oom;
    if (s->secret == NULL || s->success_msg == NULL)
        goto oom;
    return s;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    sim_destroy(s);
    return NULL;
}

void sim_destroy(struct sim *s)
{
    if (s == NULL)
        return;
    if (s->secret)
        memset(s->secret, 0, strlen(s->secret));
    free(s->secret);
    json_object_put(s->users);
    json_object_put(s->groups);
    json_object_put(s->rooms);
    json_object_put(s->banned);
    json_object_put(s->seqs);
    for (int i = 0; i < ZB_ACTION_COUNT; i++)
        free(s->quota[i].t);
    free(s->daily.t);
    buf_free(&s->msglog);
    buf_free(&s->reqlog);
    for (int i = 0; i < 8; i++)
        free(s->fail[i].match);
    free(s->garble.match);
    free(s->garble.body);
    free(s->success_msg);
    free(s->audit_reason);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- responses ---- */

static void reply_code(struct sim_reply *r, uint64_t req_id, int64_t code,
                       const char *msg)
{
    buf_reset(&r->body);
    buf_printf(&r->body, "{\"Code\":%" PRId64 ",\"Message\":", code);
    buf_json_str(&r->body, msg, strlen(msg));
    buf_printf(&r->body, ",\"RequestId\":\"%" PRIu64 "\"}", req_id);
}

/* ---- the common parameters (§1.3, §5.1) ---- */

static bool all_digits(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 19)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static int64_t check_common(struct sim *s, const struct sim_query *q,
                            int64_t now_s, const char **msg)
{
    if (q->action == NULL || q->action[0] == '\0')
        return *msg = "Action is empty", 100000006;
    if (!all_digits(q->app_id) || strtoull(q->app_id, NULL, 10) > UINT32_MAX)
        return *msg = "AppId format error", 100000001;
    if (q->timestamp == NULL || q->timestamp[0] == '\0')
        return *msg = "Timestamp is empty", 100000002;
    if (!all_digits(q->timestamp))
        return *msg = "Timestamp format error", 100000003;
    if (q->nonce == NULL || q->nonce[0] == '\0')
        return *msg = "SignatureNonce is empty", 100000008;
    if (q->sig == NULL || q->sig[0] == '\0')
        return *msg = "Signature is empty", 100000009;
    if (q->sig_version == NULL || q->sig_version[0] == '\0')
        return *msg = "SignatureVersion is empty", 100000013;
    if (strcmp(q->sig_version, "2.0") != 0)
        return *msg = "unsupported SignatureVersion", 100000014;
    if ((uint32_t)strtoull(q->app_id, NULL, 10) != s->opt.app_id)
        return *msg = "failed to get ServerSecret for this AppId", 100000010;
    long long ts = strtoll(q->timestamp, NULL, 10);
    if (ts > now_s + 600 || ts < now_s - 600)
        return *msg = "signature expired", 100000004;
    /* md5(AppId + SignatureNonce + ServerSecret + Timestamp), computed
     * here from the raw query strings, as ZIM would. */
    char in[1024], want[33];
    int n = snprintf(in, sizeof(in), "%s%s%s%s", q->app_id, q->nonce, s->secret,
                     q->timestamp);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (n < 0 || (size_t)n >= sizeof(in) ||
        !EVP_Digest(in, (size_t)n, md, &mdlen, EVP_md5(), NULL))
        return *msg = "signature error", 100000005;
    for (unsigned i = 0; i < 16; i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    if (strcmp(want, q->sig) != 0)
        return *msg = "signature error", 100000005;
    if (event_kind_of_action(q->action) < 0)
        return *msg = "unsupported Action", 100000007;
    return 0;
}

/* ---- the business body (§2-§4), zimsim's own reading ---- */

static struct json_object *member(struct json_object *o, const char *k)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static bool is_str(struct json_object *v, size_t min, size_t max)
{
    if (!json_object_is_type(v, json_type_string))
        return false;
    size_t n = (size_t)json_object_get_string_len(v);
    return n >= min && n <= max;
}

static bool is_int_in(struct json_object *v, int64_t lo, int64_t hi)
{
    return json_object_is_type(v, json_type_int) &&
           json_object_get_int64(v) >= lo && json_object_get_int64(v) <= hi;
}

static int64_t user_id_code(struct json_object *v)
{
    if (!json_object_is_type(v, json_type_string) ||
        json_object_get_string_len(v) == 0)
        return 660000002;
    return json_object_get_string_len(v) > 32 ? 660000012 : 0;
}

/* Decoded length of base64, or -1 when invalid (OpenSSL's decoder). */
static long b64_len(const char *in, size_t n)
{
    if (n % 4)
        return -1;
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    unsigned char *out = malloc(n / 4 * 3 + 3);
    int a = 0, b = 0, rc = -1;
    if (ctx && out) {
        EVP_DecodeInit(ctx);
        if (EVP_DecodeUpdate(ctx, out, &a, (const unsigned char *)in, (int)n) >=
                0 &&
            EVP_DecodeFinal(ctx, out + a, &b) == 1)
            rc = a + b;
    }
    EVP_ENCODE_CTX_free(ctx);
    free(out);
    return rc;
}

/* §4.1: command (2) and multi-item (10) everywhere but broadcasts; pop-up
 * (20) in rooms only. */
static bool type_ok(int act, int64_t t)
{
    static const int64_t types[] = {1, 2, 10, 11, 12, 13, 14, 20, 200};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (types[i] == t)
            return t == 20 ? act == A_ROOM
                           : act != A_BROADCAST || (t != 2 && t != 10);
    return false;
}

static int64_t check_body(struct sim *s, int act, struct json_object *root,
                          const char **msg)
{
    if (!json_object_is_type(root, json_type_object))
        return *msg = "body must be a JSON object", 660000002;
    int64_t c = user_id_code(member(root, "FromUserId"));
    if (c)
        return *msg = "FromUserId invalid", c;
    struct json_object *type = member(root, "MessageType");
    if (!json_object_is_type(type, json_type_int) ||
        !type_ok(act, json_object_get_int64(type)))
        return *msg = "MessageType invalid", 660000002;
    int64_t t = json_object_get_int64(type);
    if (act != A_BROADCAST && !is_int_in(member(root, "Priority"), 1, 3))
        return *msg = "Priority invalid", 660000002;
    if (t == 200 && !is_int_in(member(root, "SubMsgType"), 0, 200))
        return *msg = "SubMsgType invalid", 660000002;
    if (act == A_PEER) {
        struct json_object *to = member(root, "ToUserId");
        if (!json_object_is_type(to, json_type_array) ||
            json_object_array_length(to) == 0)
            return *msg = "ToUserId invalid", 660000002;
        if (json_object_array_length(to) > 100)
            return *msg = "too many users in ToUserId", 660000011;
        const char *from = json_object_get_string(member(root, "FromUserId"));
        for (size_t i = 0; i < json_object_array_length(to); i++) {
            struct json_object *u = json_object_array_get_idx(to, i);
            if ((c = user_id_code(u)) != 0)
                return *msg = "ToUserId entry invalid", c;
            if (strcmp(json_object_get_string(u), from) == 0)
                return *msg = "FromUserId must not equal ToUserId", 660600030;
        }
    }
    if (act == A_GROUP && !is_str(member(root, "GroupId"), 1, 32))
        return *msg = "GroupId invalid", 660000002;
    if (act == A_ROOM && !is_str(member(root, "RoomId"), 1, 32))
        return *msg = "RoomId invalid", 660000002;
    struct json_object *body = member(root, "MessageBody");
    if (!json_object_is_type(body, json_type_object))
        return *msg = "MessageBody invalid", 660000002;
    if (act == A_ROOM && member(body, "HasReceipt"))
        return *msg = "Room messages do not support receipts. Please delete "
                      "the 'HasReceipt' field in the request message body.",
               660300013;
    struct json_object *m = member(body, "Message");
    if (!is_str(m, 1, SIZE_MAX))
        return *msg = "Message invalid", 660000002;
    size_t limit = (size_t)s->opt.max_message_bytes;
    if (t == 10 && limit < 5120)
        limit = 5120;
    long n = json_object_get_string_len(m);
    struct json_object *b64 = member(body, "IsBase64");
    if (b64 && json_object_get_int64(b64) == 1) {
        n = b64_len(json_object_get_string(m), (size_t)n);
        if (n < 0)
            return *msg = "Message is not valid base64", 660000025;
    }
    if ((size_t)n > limit)
        return *msg = "message size over the limit", 660400001;
    struct json_object *ext = member(body, "ExtendedData");
    if (ext && !json_object_is_type(ext, json_type_string))
        return *msg = "ExtendedData invalid", 660000002;
    if (ext && json_object_get_string_len(ext) > 1024)
        return *msg = "message size over the limit", 660400001;
    return 0;
}

/* ---- logs ---- */

static void log_request(struct sim *s, const struct sim_query *q,
                        uint64_t req_id, int64_t code, int status,
                        int64_t now_us)
{
    if (s->n_reqlog >= s->opt.max_log_entries)
        return;
    struct buf *b = &s->reqlog;
    buf_printf(b, "{\"request_id\":\"%" PRIu64 "\",\"action\":", req_id);
    const char *a = q->action ? q->action : "";
    buf_json_str(b, a, strlen(a));
    buf_puts(b, ",\"nonce\":");
    a = q->nonce ? q->nonce : "";
    buf_json_str(b, a, strlen(a));
    buf_puts(b, ",\"timestamp\":");
    a = q->timestamp ? q->timestamp : "";
    buf_json_str(b, a, strlen(a));
    buf_printf(
        b, ",\"status\":%d,\"code\":%" PRId64 ",\"arrival_us\":%" PRId64 "}\n",
        status, code, now_us);
    s->n_reqlog++;
}

static void log_delivery(struct sim *s, int act, struct json_object *root,
                         const char *to, uint64_t msg_id, int64_t seq,
                         uint64_t req_id, const struct sim_query *q,
                         int64_t now_us)
{
    if (s->n_msglog >= s->opt.max_log_entries)
        return;
    struct buf *b = &s->msglog;
    const char *from = json_object_get_string(member(root, "FromUserId"));
    buf_printf(b, "{\"action\":\"%s\",\"request_id\":\"%" PRIu64 "\",\"from\":",
               event_kind_action((enum event_kind)act), req_id);
    buf_json_str(b, from, strlen(from));
    if (act == A_PEER) {
        buf_puts(b, ",\"to\":");
        buf_json_str(b, to, strlen(to));
    } else if (act == A_GROUP) {
        const char *g = json_object_get_string(member(root, "GroupId"));
        buf_puts(b, ",\"group\":");
        buf_json_str(b, g, strlen(g));
    } else if (act == A_ROOM) {
        const char *r = json_object_get_string(member(root, "RoomId"));
        buf_puts(b, ",\"room\":");
        buf_json_str(b, r, strlen(r));
        buf_printf(b, ",\"online\":%" PRId64, to ? (int64_t)atoll(to) : -1);
    }
    buf_printf(b,
               ",\"type\":%" PRId64 ",\"body\":%s,\"msg_id\":\"%" PRIu64 "\"",
               json_object_get_int64(member(root, "MessageType")),
               json_object_to_json_string_ext(member(root, "MessageBody"),
                                              JSON_C_TO_STRING_PLAIN),
               msg_id);
    if (seq > 0)
        buf_printf(b, ",\"msg_seq\":%" PRId64, seq);
    buf_puts(b, ",\"nonce\":");
    buf_json_str(b, q->nonce, strlen(q->nonce));
    buf_printf(b, ",\"arrival_us\":%" PRId64 "}\n", now_us);
    s->n_msglog++;
}

/* MsgSeq grows per conversation: a peer pair (either direction) or a
 * group. Command messages (type 2) get none. */
static int64_t next_seq(struct sim *s, const char *a, const char *b)
{
    char key[80];
    if (b == NULL)
        snprintf(key, sizeof(key), "g|%s", a);
    else if (strcmp(a, b) < 0)
        snprintf(key, sizeof(key), "p|%s|%s", a, b);
    else
        snprintf(key, sizeof(key), "p|%s|%s", b, a);
    struct json_object *v = member(s->seqs, key);
    if (v == NULL) {
        json_object_object_add(s->seqs, key, json_object_new_int64(1));
        return 1;
    }
    int64_t n = json_object_get_int64(v) + 1;
    json_object_set_int64(v, n);
    return n;
}

static const char *banned_word(struct sim *s, struct json_object *root)
{
    if (s->banned == NULL)
        return NULL;
    const char *m =
        json_object_get_string(member(member(root, "MessageBody"), "Message"));
    for (size_t i = 0; i < json_object_array_length(s->banned); i++) {
        const char *w =
            json_object_get_string(json_object_array_get_idx(s->banned, i));
        if (strstr(m, w))
            return w;
    }
    return NULL;
}

static bool user_exists(struct sim *s, const char *u)
{
    return s->users == NULL || json_object_object_get_ex(s->users, u, NULL);
}

/* Moderation refused the message (660500005), for word: the reason in
 * the words /_sim/control gave (audit_reason), or in English. */
static int64_t moderated(struct sim *s, uint64_t req_id, const char *word,
                         struct buf *b)
{
    buf_reset(b);
    buf_printf(b,
               "{\"Code\":660500005,\"Message\":\"text message failed "
               "moderation\",\"RequestId\":\"%" PRIu64 "\",\"AuditInfos\":"
               "[{\"Index\":0,\"Reason\":",
               req_id);
    struct buf reason;
    buf_init(&reason, 4096);
    if (s->audit_reason)
        buf_printf(&reason, "%s: %s", s->audit_reason, word);
    else
        buf_printf(&reason, "contains banned word '%s'", word);
    buf_json_str(b, reason.data ? reason.data : "", reason.len);
    buf_free(&reason);
    buf_puts(b, "}]}");
    return 660500005;
}

/* SendPeerMessage: each recipient who exists gets the message; the
 * others are in ErrorList (51102). Code 0 if one succeeded (§2.1). */
static int64_t deliver_peer(struct sim *s, struct json_object *root,
                            uint64_t req_id, const struct sim_query *q,
                            int64_t now_us, struct buf *b)
{
    const char *from = json_object_get_string(member(root, "FromUserId"));
    int64_t type = json_object_get_int64(member(root, "MessageType"));
    struct json_object *to = member(root, "ToUserId");
    size_t n = json_object_array_length(to), ok = 0;
    struct buf succ, errs;
    buf_init(&succ, 1 << 16);
    buf_init(&errs, 1 << 16);
    for (size_t i = 0; i < n; i++) {
        const char *u =
            json_object_get_string(json_object_array_get_idx(to, i));
        if (!user_exists(s, u)) {
            buf_printf(&errs, "%s{\"UserId\":", errs.len ? "," : "");
            buf_json_str(&errs, u, strlen(u));
            buf_puts(&errs, ",\"SubCode\":51102}");
            continue;
        }
        uint64_t id = s->next_msg_id++;
        int64_t seq = type == 2 ? 0 : next_seq(s, from, u);
        buf_printf(&succ, "%s{\"UserId\":", succ.len ? "," : "");
        buf_json_str(&succ, u, strlen(u));
        buf_printf(&succ, ",\"MsgId\":\"%" PRIu64 "\"", id);
        if (seq)
            buf_printf(&succ, ",\"MsgSeq\":%" PRId64, seq);
        buf_puts(&succ, "}");
        log_delivery(s, A_PEER, root, u, id, seq, req_id, q, now_us);
        ok++;
    }
    int64_t code = ok ? 0 : 660200001;
    const char *msg = ok ? s->success_msg : "user does not exist";
    buf_reset(b);
    buf_printf(b, "{\"Code\":%" PRId64 ",\"Message\":", code);
    buf_json_str(b, msg, strlen(msg));
    buf_printf(b,
               ",\"RequestId\":\"%" PRIu64 "\",\"ErrorList\":[%s],"
               "\"SuccList\":[%s],\"AuditInfos\":[]}",
               req_id, errs.data ? errs.data : "", succ.data ? succ.data : "");
    buf_free(&succ);
    buf_free(&errs);
    return code;
}

static int64_t deliver(struct sim *s, int act, struct json_object *root,
                       uint64_t req_id, const struct sim_query *q,
                       int64_t now_us, struct sim_reply *r)
{
    const char *from = json_object_get_string(member(root, "FromUserId"));
    int64_t type = json_object_get_int64(member(root, "MessageType"));
    struct buf *b = &r->body;
    if (!user_exists(s, from)) {
        reply_code(r, req_id, 660500002, "sender not registered");
        return 660500002;
    }
    if (act == A_GROUP) {
        const char *g = json_object_get_string(member(root, "GroupId"));
        if (s->groups && !json_object_object_get_ex(s->groups, g, NULL)) {
            reply_code(r, req_id, 660600001, "group does not exist");
            return 660600001;
        }
    }
    if (act == A_ROOM) {
        const char *room = json_object_get_string(member(root, "RoomId"));
        if (s->rooms && !json_object_object_get_ex(s->rooms, room, NULL)) {
            reply_code(r, req_id, 660300001, "room does not exist");
            return 660300001;
        }
    }
    const char *word = banned_word(s, root);
    if (word)
        return moderated(s, req_id, word, b);
    if (act == A_PEER)
        return deliver_peer(s, root, req_id, q, now_us, b);
    uint64_t id = s->next_msg_id++;
    buf_reset(b);
    if (act == A_GROUP) {
        const char *g = json_object_get_string(member(root, "GroupId"));
        int64_t seq = type == 2 ? 0 : next_seq(s, g, NULL);
        /* MsgId is a JSON number here, as documented (above 2^53). */
        buf_puts(b, "{\"Code\":0,\"Message\":");
        buf_json_str(b, s->success_msg, strlen(s->success_msg));
        buf_printf(b, ",\"RequestId\":\"%" PRIu64 "\",", req_id);
        if (seq)
            buf_printf(b, "\"MsgSeq\":%" PRId64 ",", seq);
        buf_printf(b, "\"MsgId\":%" PRIu64 ",\"AuditInfos\":[]}", id);
        log_delivery(s, act, root, NULL, id, seq, req_id, q, now_us);
    } else if (act == A_ROOM) {
        /* To the users online in the room; no MsgId, no MsgSeq in the
         * answer (§2.5). The log says how many were online. */
        struct json_object *online = NULL;
        const char *room = json_object_get_string(member(root, "RoomId"));
        char n[24] = "-1";
        if (s->rooms && json_object_object_get_ex(s->rooms, room, &online) &&
            online)
            snprintf(n, sizeof(n), "%zu", json_object_array_length(online));
        reply_code(r, req_id, 0, s->success_msg);
        log_delivery(s, act, root, n, id, 0, req_id, q, now_us);
    } else {
        reply_code(r, req_id, 0, s->success_msg);
        log_delivery(s, act, root, NULL, id, 0, req_id, q, now_us);
    }
    return 0;
}

/* Faults below HTTP: the connection dropped, or an HTTP error status.
 * True if one happened (r says what). Under s->mu. */
static bool transport_fault(struct sim *s, const struct sim_query *q,
                            uint64_t req_id, int64_t now_us,
                            struct sim_reply *r)
{
    if (s->drop_rate > 0 && rnd_unit(s) < s->drop_rate) {
        r->action = SIM_DROP;
        s->dropped++;
        log_request(s, q, req_id, -1, 0, now_us);
        return true;
    }
    if (s->http_error_rate > 0 && rnd_unit(s) < s->http_error_rate) {
        r->status = s->http_error_status;
        buf_reset(&r->body);
        buf_puts(&r->body, r->status == 503 ? "Service Unavailable"
                                            : "Internal Server Error");
        s->http_errors++;
        log_request(s, q, req_id, -1, r->status, now_us);
        return true;
    }
    return false;
}

/* Why the call is refused before its body is read: the common
 * parameters, a forced or injected code, the quotas. 0: it goes on.
 * Under s->mu. */
static int64_t refusal(struct sim *s, const struct sim_query *q, int act,
                       const char *body, size_t len, int64_t now_ms,
                       const char **msg)
{
    int64_t code;
    if ((code = check_common(s, q, now_ms / 1000, msg)) != 0)
        return code;
    if (s->force_code && now_ms < s->force_until_ms)
        return *msg = "forced by /_sim/control", s->force_code;
    if (s->busy_rate > 0 && rnd_unit(s) < s->busy_rate)
        return *msg = "server busy, please try again later", 1;
    for (int i = 0; i < 8; i++) {
        struct fail_rule *f = &s->fail[i];
        if (f->count > 0 && (f->match == NULL ||
                             memmem(body, len, f->match, strlen(f->match)))) {
            f->count--;
            return *msg = "failed by /_sim/control fail_next", f->code;
        }
    }
    if (!ring_admit(&s->quota[act], now_ms, 1000))
        return *msg = "call frequency over the limit",
               act == A_BROADCAST ? 660500003 : 7;
    if (act == A_BROADCAST &&
        !ring_admit(&s->daily, now_ms, s->opt.broadcast_window_ms))
        return *msg = "SendMessageToAllUsers daily limit reached", 660500003;
    return 0;
}

/* The body read, checked and delivered. Under s->mu. */
static int64_t process(struct sim *s, int act, const char *body, size_t len,
                       uint64_t req_id, const struct sim_query *q,
                       int64_t now_us, struct sim_reply *r, const char **msg)
{
    /* RFC 8259 JSON in UTF-8, as the Go and Java servers behind ZIM read
     * it; json-c's own strict mode refuses every non-ASCII byte in 0.18
     * (base/json_strict.h). */
    struct json_strict_error jerr;
    struct json_object *root = NULL;
    if (json_strict_check(body, len, 32, NULL, NULL, &jerr) == 0) {
        struct json_tokener *tok = json_tokener_new_ex(32);
        root = json_tokener_parse_ex(tok, body, (int)len);
        json_tokener_free(tok);
    }
    if (root == NULL)
        return *msg = "request body is not valid JSON", 660000002;
    int64_t code = check_body(s, act, root, msg);
    if (code == 0)
        code = deliver(s, act, root, req_id, q, now_us, r);
    json_object_put(root);
    return code;
}

/* A delivered call whose answer is mangled on the way back (garble_next):
 * the message went, the caller cannot tell. Under s->mu. */
static void garble(struct sim *s, const char *body, size_t len,
                   struct sim_reply *r)
{
    struct garble_rule *g = &s->garble;
    if (g->count <= 0 ||
        (g->match && !memmem(body, len, g->match, strlen(g->match))))
        return;
    g->count--;
    buf_reset(&r->body);
    buf_puts(&r->body, g->body ? g->body : "<html><body>OK</body></html>");
    s->garbled++;
}

static void count_accepted(struct act_stats *st, int64_t now_ms)
{
    st->accepted++;
    int64_t sec = now_ms / 1000;
    if (sec != st->sec) {
        st->sec = sec;
        st->sec_count = 0;
    }
    if (++st->sec_count > st->peak)
        st->peak = st->sec_count;
}

void sim_handle(struct sim *s, const struct sim_query *q, const char *body,
                size_t len, int64_t now_us, struct sim_reply *r)
{
    int64_t now_ms = now_us / 1000;
    const char *msg = "success";
    pthread_mutex_lock(&s->mu);
    uint64_t req_id = s->next_req_id++;
    int act = event_kind_of_action(q->action);
    if (act < 0)
        act = A_OTHER;
    struct act_stats *st = &s->st[act];
    st->requests++;
    r->action = SIM_RESPOND;
    r->status = 200;
    r->delay_ms = s->latency_ms;
    if (s->jitter_ms > 0)
        r->delay_ms += (int64_t)(rnd_next(s) % (uint64_t)(s->jitter_ms + 1));
    if (transport_fault(s, q, req_id, now_us, r)) {
        pthread_mutex_unlock(&s->mu);
        return;
    }
    buf_reset(&r->body);
    int64_t code = refusal(s, q, act, body, len, now_ms, &msg);
    if (code == 0)
        code = process(s, act, body, len, req_id, q, now_us, r, &msg);
    if (r->body.len == 0) /* deliver() wrote the answers it makes */
        reply_code(r, req_id, code, msg);
    count_code(st, code);
    if (code == 0) {
        count_accepted(st, now_ms);
        garble(s, body, len, r);
    }
    log_request(s, q, req_id, code, 200, now_us);
    log_debug("request_id=%" PRIu64 " action=%s code=%" PRId64, req_id,
              q->action ? q->action : "", code);
    pthread_mutex_unlock(&s->mu);
}

int sim_down(struct sim *s, int64_t *until_ms)
{
    pthread_mutex_lock(&s->mu);
    int d = s->down;
    *until_ms = s->down_until_ms;
    pthread_mutex_unlock(&s->mu);
    return d;
}

void sim_set_down(struct sim *s, int mode, int64_t until_ms)
{
    pthread_mutex_lock(&s->mu);
    s->down = mode;
    s->down_until_ms = until_ms;
    pthread_mutex_unlock(&s->mu);
}

static int ctl_rate(struct json_object *o, const char *k, double *out,
                    char *err, size_t errlen)
{
    struct json_object *v = member(o, k);
    if (v == NULL)
        return 0;
    double d = json_object_get_double(v);
    if (!(json_object_is_type(v, json_type_double) ||
          json_object_is_type(v, json_type_int)) ||
        d < 0 || d > 1) {
        snprintf(err, errlen, "%s must be a number in [0, 1]", k);
        return -1;
    }
    *out = d;
    return 0;
}

static int ctl_int(struct json_object *o, const char *k, int64_t *out,
                   char *err, size_t errlen)
{
    struct json_object *v = member(o, k);
    if (v == NULL)
        return 0;
    if (!json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) < 0) {
        snprintf(err, errlen, "%s must be a non-negative integer", k);
        return -1;
    }
    *out = json_object_get_int64(v);
    return 0;
}

/* down: "refuse", "hang" or "up", for down_ms (0: until told). Under
 * s->mu. 0 or -1. */
static int ctl_down(struct sim *s, struct json_object *o, int64_t now_ms,
                    char *err, size_t errlen)
{
    struct json_object *down = member(o, "down");
    int64_t down_ms = 0;
    if (down == NULL)
        return 0;
    if (ctl_int(o, "down_ms", &down_ms, err, errlen))
        return -1;
    const char *d = json_object_get_string(down);
    int mode = strcmp(d, "refuse") == 0 ? 1
               : strcmp(d, "hang") == 0 ? 2
               : strcmp(d, "up") == 0   ? 0
                                        : -1;
    if (mode < 0) {
        snprintf(err, errlen, "down must be refuse, hang or up");
        return -1;
    }
    if (mode == 1 && down_ms == 0) {
        /* Refused connections can't reach /_sim/control to undo it. */
        snprintf(err, errlen, "down=refuse needs down_ms");
        return -1;
    }
    s->down = mode;
    s->down_until_ms = down_ms ? now_ms + down_ms : INT64_MAX;
    return 0;
}

/* fail_next: one rule or an array of rules; each fills a free slot. Under
 * s->mu. 0 or -1. */
static int ctl_fail_next(struct sim *s, struct json_object *o, char *err,
                         size_t errlen)
{
    if (json_object_get_boolean(member(o, "fail_clear")))
        for (int i = 0; i < 8; i++)
            s->fail[i].count = 0;
    struct json_object *fn = member(o, "fail_next");
    bool many = json_object_is_type(fn, json_type_array);
    size_t n_rules = many ? json_object_array_length(fn) : (fn != NULL);
    for (size_t r = 0; r < n_rules; r++) {
        struct json_object *rule = many ? json_object_array_get_idx(fn, r) : fn;
        int64_t code = 1, count = 1;
        if (ctl_int(rule, "code", &code, err, errlen) ||
            ctl_int(rule, "count", &count, err, errlen))
            return -1;
        struct fail_rule *f = NULL;
        for (int i = 0; i < 8 && !f; i++)
            if (s->fail[i].count == 0)
                f = &s->fail[i];
        if (f == NULL) {
            snprintf(err, errlen, "at most 8 fail_next rules at once");
            return -1;
        }
        free(f->match);
        struct json_object *m = member(rule, "match");
        f->match = m ? strdup(json_object_get_string(m)) : NULL;
        f->code = code;
        f->count = count;
    }
    return 0;
}

/* users_add, users_remove, groups_add. Under s->mu. */
static void ctl_directory(struct sim *s, struct json_object *o)
{
    struct json_object *ua = member(o, "users_add");
    for (size_t i = 0; ua && s->users && i < json_object_array_length(ua);
         i++) /* without a users file, everyone exists already */
        json_object_object_add(
            s->users, json_object_get_string(json_object_array_get_idx(ua, i)),
            NULL);
    struct json_object *ur = member(o, "users_remove");
    for (size_t i = 0; ur && i < json_object_array_length(ur); i++) {
        if (s->users == NULL)
            s->users = json_object_new_object();
        json_object_object_del(
            s->users, json_object_get_string(json_object_array_get_idx(ur, i)));
    }
    struct json_object *ga = member(o, "groups_add");
    if (ga && json_object_is_type(ga, json_type_object) && s->groups) {
        json_object_object_foreach(ga, gid, members)
            json_object_object_add(s->groups, gid, json_object_get(members));
    }
    /* rooms_add {id: [online users] or null}; without a rooms file every
     * room exists already. */
    struct json_object *ra = member(o, "rooms_add");
    if (ra && json_object_is_type(ra, json_type_object) && s->rooms) {
        json_object_object_foreach(ra, rid, online)
            json_object_object_add(s->rooms, rid, json_object_get(online));
    }
}

/* secret: the ServerSecret changes now (a rotation in the console). Under
 * s->mu. 0 or -1. */
static int ctl_secret(struct sim *s, struct json_object *o, char *err,
                      size_t errlen)
{
    struct json_object *v = member(o, "secret");
    if (v == NULL)
        return 0;
    const char *secret = json_object_get_string(v);
    char *dup = NULL;
    if (!json_object_is_type(v, json_type_string) || secret[0] == '\0' ||
        (dup = strdup(secret)) == NULL) {
        snprintf(err, errlen, "secret must be a non-empty string");
        return -1;
    }
    memset(s->secret, 0, strlen(s->secret));
    free(s->secret);
    s->secret = dup;
    return 0;
}

/* The fault rates, latency, error status and forced code. Under s->mu. */
static int ctl_faults(struct sim *s, struct json_object *o, int64_t now_ms,
                      char *err, size_t errlen)
{
    int64_t status = 0, force_ms = 0;
    if (ctl_int(o, "latency_ms", &s->latency_ms, err, errlen) ||
        ctl_int(o, "jitter_ms", &s->jitter_ms, err, errlen) ||
        ctl_rate(o, "busy_rate", &s->busy_rate, err, errlen) ||
        ctl_rate(o, "http_error_rate", &s->http_error_rate, err, errlen) ||
        ctl_rate(o, "drop_rate", &s->drop_rate, err, errlen) ||
        ctl_int(o, "http_error_status", &status, err, errlen) ||
        ctl_int(o, "force_ms", &force_ms, err, errlen) ||
        ctl_int(o, "force_code", &s->force_code, err, errlen))
        return -1;
    if (status) {
        if (status < 400 || status > 599) {
            snprintf(err, errlen, "http_error_status must be 4xx or 5xx");
            return -1;
        }
        s->http_error_status = (int)status;
    }
    if (member(o, "force_code"))
        s->force_until_ms = force_ms ? now_ms + force_ms : INT64_MAX;
    return 0;
}

/* Replaces *dst with a copy of the string member k of o, if o has it.
 * Under s->mu. 0 or -1. */
static int ctl_str(struct json_object *o, const char *k, char **dst,
                   bool may_clear, char *err, size_t errlen)
{
    struct json_object *v = member(o, k);
    char *dup = NULL;
    if (v == NULL)
        return 0;
    if (json_object_is_type(v, json_type_null) && may_clear) {
        free(*dst);
        *dst = NULL;
        return 0;
    }
    if (!json_object_is_type(v, json_type_string) ||
        json_object_get_string_len(v) == 0 ||
        (dup = strdup(json_object_get_string(v))) == NULL) {
        snprintf(err, errlen, "%s must be a non-empty string%s", k,
                 may_clear ? " or null" : "");
        return -1;
    }
    free(*dst);
    *dst = dup;
    return 0;
}

/* The words of answers (any language: they travel as JSON in UTF-8):
 * success_message, the Message of Code 0; audit_reason, a moderation
 * reason's words (null: English). And garble_next {count, match, body}:
 * the next count calls matching are delivered, and answered 200 with body
 * (HTML by default), not ZIM's JSON. Under s->mu. 0 or -1. */
static int ctl_answers(struct sim *s, struct json_object *o, char *err,
                       size_t errlen)
{
    if (ctl_str(o, "success_message", &s->success_msg, false, err, errlen) ||
        ctl_str(o, "audit_reason", &s->audit_reason, true, err, errlen))
        return -1;
    struct json_object *g = member(o, "garble_next");
    if (g == NULL)
        return 0;
    int64_t count = 1;
    if (!json_object_is_type(g, json_type_object) ||
        ctl_int(g, "count", &count, err, errlen))
        return -1;
    free(s->garble.match);
    s->garble.match = NULL;
    if (ctl_str(g, "match", &s->garble.match, true, err, errlen) ||
        ctl_str(g, "body", &s->garble.body, true, err, errlen))
        return -1;
    s->garble.count = count;
    return 0;
}

int sim_control(struct sim *s, const char *json, size_t len, int64_t now_ms,
                char *err, size_t errlen)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = json_tokener_parse_ex(tok, json, (int)len);
    json_tokener_free(tok);
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        snprintf(err, errlen, "control body must be a JSON object");
        return -1;
    }
    pthread_mutex_lock(&s->mu);
    int rc = ctl_secret(s, o, err, errlen) == 0 &&
                     ctl_answers(s, o, err, errlen) == 0 &&
                     ctl_faults(s, o, now_ms, err, errlen) == 0 &&
                     ctl_down(s, o, now_ms, err, errlen) == 0 &&
                     ctl_fail_next(s, o, err, errlen) == 0
                 ? 0
                 : -1;
    if (rc == 0)
        ctl_directory(s, o);
    pthread_mutex_unlock(&s->mu);
    json_object_put(o);
    return rc;
}

static int copy_log(struct sim *s, struct buf *src, struct buf *out)
{
    pthread_mutex_lock(&s->mu);
    int rc = buf_append(out, src->data ? src->data : "", src->len);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int sim_messages(struct sim *s, struct buf *out)
{
    return copy_log(s, &s->msglog, out);
}

int sim_requests(struct sim *s, struct buf *out)
{
    return copy_log(s, &s->reqlog, out);
}

int sim_stats(struct sim *s, struct buf *out)
{
    pthread_mutex_lock(&s->mu);
    buf_puts(out, "{\"actions\":{");
    for (int i = 0; i < A_COUNT; i++) {
        struct act_stats *a = &s->st[i];
        buf_printf(out,
                   "%s\"%s\":{\"requests\":%" PRId64 ",\"accepted\":%" PRId64
                   ",\"peak_per_s\":%" PRId64 ",\"codes\":{",
                   i ? "," : "",
                   i < A_OTHER ? event_kind_action((enum event_kind)i)
                               : "other",
                   a->requests, a->accepted, a->peak);
        for (size_t k = 0; k < a->n_codes; k++)
            buf_printf(out, "%s\"%" PRId64 "\":%" PRId64, k ? "," : "",
                       a->codes[k][0], a->codes[k][1]);
        buf_puts(out, "}}");
    }
    buf_printf(out,
               "},\"dropped\":%" PRId64 ",\"http_errors\":%" PRId64
               ",\"garbled\":%" PRId64 ",\"messages\":%" PRId64
               ",\"max_inflight\":%" PRId64 "}\n",
               s->dropped, s->http_errors, s->garbled, s->n_msglog,
               s->max_inflight);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

void sim_inflight(struct sim *s, int delta)
{
    pthread_mutex_lock(&s->mu);
    s->inflight += delta;
    if (s->inflight > s->max_inflight)
        s->max_inflight = s->inflight;
    pthread_mutex_unlock(&s->mu);
}

void sim_reset(struct sim *s)
{
    pthread_mutex_lock(&s->mu);
    memset(s->st, 0, sizeof(s->st));
    s->dropped = s->http_errors = s->max_inflight = 0;
    buf_free(&s->msglog);
    buf_free(&s->reqlog);
    s->n_msglog = s->n_reqlog = 0;
    json_object_put(s->seqs);
    s->seqs = json_object_new_object();
    for (int i = 0; i < ZB_ACTION_COUNT; i++)
        s->quota[i].n = s->quota[i].head = 0;
    s->daily.n = s->daily.head = 0;
    s->latency_ms = s->jitter_ms = 0;
    s->busy_rate = s->http_error_rate = s->drop_rate = 0;
    s->force_code = 0;
    for (int i = 0; i < 8; i++)
        s->fail[i].count = 0;
    s->garble.count = s->garbled = 0;
    free(s->audit_reason);
    s->audit_reason = NULL;
    char *ok = strdup("success");
    if (ok) {
        free(s->success_msg);
        s->success_msg = ok;
    }
    s->down = 0;
    pthread_mutex_unlock(&s->mu);
}
