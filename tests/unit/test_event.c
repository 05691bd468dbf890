/* test_event.c - every validation rule, at its boundary: one event that
 * passes just inside it and one that fails just past it, with the field
 * path and code asserted.
 *
 * Event texts are templates: {cN} expands to the character c repeated N
 * times, {TO N} to N distinct quoted user IDs. JSON inside MessageBody
 * strings is written with \" escapes, as producers must. */
#include "config.h"
#include "corpus.h"
#include "event.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OK NULL /* want: valid */

struct tcase {
    enum event_kind kind;
    const char *json;
    const char *field; /* OK, or the field path of the rejection */
    int64_t code;
};

static char *expand(const char *t)
{
    size_t cap = strlen(t) + 70000, n = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    for (const char *p = t; *p;) {
        if (p[0] == '{' && strncmp(p, "{TO ", 4) == 0) {
            int count = atoi(p + 4);
            for (int i = 0; i < count; i++)
                n += (size_t)snprintf(out + n, cap - n, "%s\"r%d\"",
                                      i ? "," : "", i);
            p = strchr(p, '}') + 1;
        } else if (p[0] == '{' && p[1] && p[2] >= '0' && p[2] <= '9') {
            char c = p[1];
            int count = atoi(p + 2);
            memset(out + n, c, (size_t)count);
            n += (size_t)count;
            p = strchr(p, '}') + 1;
        } else {
            out[n++] = *p++;
        }
        assert_true(n < cap - 100);
    }
    out[n] = '\0';
    return out;
}

static struct event_limits limits(void)
{
    struct config cfg;
    struct event_limits lim;
    config_init(&cfg);
    event_limits_from_config(&cfg, &lim);
    config_free(&cfg);
    return lim;
}

static void run_table(const struct tcase *t, size_t n,
                      const struct event_limits *lim)
{
    for (size_t i = 0; i < n; i++) {
        char *json = expand(t[i].json);
        struct event ev;
        struct event_error err;
        int rc = event_parse(&ev, t[i].kind, json, strlen(json), lim, &err);
        if (t[i].field == OK) {
            if (rc != 0)
                fail_msg("case %zu: want valid, got field '%s' code %lld: "
                         "%s\n  %s",
                         i, err.field, (long long)err.code, err.message,
                         t[i].json);
            event_free(&ev);
        } else {
            if (rc == 0)
                fail_msg("case %zu: want invalid %s, got valid\n  %s", i,
                         t[i].field, t[i].json);
            if (strcmp(err.field, t[i].field) != 0 || err.code != t[i].code)
                fail_msg("case %zu: want field '%s' code %lld, got '%s' "
                         "%lld (%s)\n  %s",
                         i, t[i].field, (long long)t[i].code, err.field,
                         (long long)err.code, err.message, t[i].json);
            assert_true(strlen(err.message) > 5);
        }
        free(json);
    }
}

#define P          EVENT_PEER
#define G          EVENT_GROUP
#define B          EVENT_BROADCAST
#define BAD        ZIM_CODE_BAD_PARAM
#define PEER_HEAD  "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],"
#define PEER(rest) PEER_HEAD "\"MessageType\":1,\"Priority\":1," rest "}"
#define PEER_HEAD_TO(to)                                                       \
    "{\"FromUserId\":\"u1\",\"ToUserId\":[" to "],\"MessageType\":1,"          \
    "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}"
#define PEER_MSG(msg)                                                          \
    PEER_HEAD "\"MessageType\":1,\"Priority\":1,\"MessageBody\":{"             \
              "\"Message\":\"" msg "\"}}"

static const struct tcase ids[] = {
    {P, PEER("\"MessageBody\":{\"Message\":\"hi\"}"), OK, 0},
    /* FromUserId: 1..32 bytes, charset */
    {P,
     "{\"FromUserId\":\"{a32}\",\"ToUserId\":[\"u2\"],\"MessageType\":1,"
     "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}",
     OK, 0},
    {P,
     "{\"FromUserId\":\"{a33}\",\"ToUserId\":[\"u2\"],\"MessageType\":1,"
     "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}",
     "FromUserId", ZIM_CODE_USERID_TOO_LONG},
    {P,
     "{\"FromUserId\":\"\",\"ToUserId\":[\"u2\"],\"MessageType\":1,"
     "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}",
     "FromUserId", BAD},
    {P,
     "{\"FromUserId\":\"!#$%&()+-:;<=.>?@[]^_ {}|~Az09\",\"ToUserId\":"
     "[\"u2\"],\"MessageType\":1,\"Priority\":1,\"MessageBody\":"
     "{\"Message\":\"hi\"}}",
     OK, 0},
    {P,
     "{\"FromUserId\":\"u/1\",\"ToUserId\":[\"u2\"],\"MessageType\":1,"
     "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}",
     "FromUserId", BAD},
    {P,
     "{\"FromUserId\":\"u\\u00001\",\"ToUserId\":[\"u2\"],"
     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":{\"Message\":"
     "\"hi\"}}",
     "FromUserId", BAD},
    {P,
     "{\"FromUserId\":\"u\\r\\n1\",\"ToUserId\":[\"u2\"],"
     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":{\"Message\":"
     "\"hi\"}}",
     "FromUserId", BAD},
    {P,
     "{\"FromUserId\":\"\xc3\xa9\",\"ToUserId\":[\"u2\"],"
     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":{\"Message\":"
     "\"hi\"}}",
     "FromUserId", BAD},
    {P,
     "{\"FromUserId\":7,\"ToUserId\":[\"u2\"],\"MessageType\":1,"
     "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}",
     "FromUserId", BAD},
    /* ToUserId: 1..100 entries, each an ID, never FromUserId */
    {P,
     "{\"FromUserId\":\"u1\",\"ToUserId\":[{TO 100}],\"MessageType\":1,"
     "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}",
     OK, 0},
    {P,
     "{\"FromUserId\":\"u1\",\"ToUserId\":[{TO 101}],\"MessageType\":1,"
     "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}",
     "ToUserId", ZIM_CODE_TOO_MANY_USERS},
    {P,
     "{\"FromUserId\":\"u1\",\"ToUserId\":[],\"MessageType\":1,"
     "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}",
     "ToUserId", BAD},
    {P,
     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"a\",\"b\",\"c\",\"d/\"],"
     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":{\"Message\":"
     "\"hi\"}}",
     "ToUserId[3]", BAD},
    {P,
     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"{b32}\",\"{b33}\"],"
     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":{\"Message\":"
     "\"hi\"}}",
     "ToUserId[1]", ZIM_CODE_USERID_TOO_LONG},
    {P,
     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\",\"u1\"],"
     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":{\"Message\":"
     "\"hi\"}}",
     "ToUserId[1]", ZIM_CODE_SEND_TO_SELF},
    {P,
     "{\"FromUserId\":\"u1\",\"ToUserId\":\"u2\",\"MessageType\":1,"
     "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}",
     "ToUserId", BAD},
    {P,
     "{\"FromUserId\":\"u1\",\"MessageType\":1,\"Priority\":1,"
     "\"MessageBody\":{\"Message\":\"hi\"}}",
     "ToUserId", BAD},
    /* GroupId: 1..32 bytes, charset; ReceiverUserIds entries */
    {G,
     "{\"FromUserId\":\"u1\",\"GroupId\":\"{g32}\",\"MessageType\":1,"
     "\"Priority\":2,\"MessageBody\":{\"Message\":\"hi\"}}",
     OK, 0},
    {G,
     "{\"FromUserId\":\"u1\",\"GroupId\":\"{g33}\",\"MessageType\":1,"
     "\"Priority\":2,\"MessageBody\":{\"Message\":\"hi\"}}",
     "GroupId", BAD},
    {G,
     "{\"FromUserId\":\"u1\",\"GroupId\":\"#server made\",\"MessageType\":"
     "1,\"Priority\":2,\"MessageBody\":{\"Message\":\"hi\"}}",
     OK, 0},
    {G,
     "{\"FromUserId\":\"u1\",\"GroupId\":\"g\\\\1\",\"MessageType\":1,"
     "\"Priority\":2,\"MessageBody\":{\"Message\":\"hi\"}}",
     "GroupId", BAD},
    {G,
     "{\"FromUserId\":\"u1\",\"GroupId\":\"g1\",\"MessageType\":1,"
     "\"Priority\":2,\"MessageBody\":{\"Message\":\"hi\"},"
     "\"SendMsgOptions\":{\"NoUnread\":true,\"TargetOption\":{"
     "\"ReceiverUserIds\":[\"a\",\"{b32}\"],\"Inclusive\":true}}}",
     OK, 0},
    {G,
     "{\"FromUserId\":\"u1\",\"GroupId\":\"g1\",\"MessageType\":1,"
     "\"Priority\":2,\"MessageBody\":{\"Message\":\"hi\"},"
     "\"SendMsgOptions\":{\"TargetOption\":{"
     "\"ReceiverUserIds\":[\"a\",\"{b33}\"]}}}",
     "SendMsgOptions.TargetOption.ReceiverUserIds[1]",
     ZIM_CODE_USERID_TOO_LONG},
    {G,
     "{\"FromUserId\":\"u1\",\"GroupId\":\"g1\",\"MessageType\":1,"
     "\"Priority\":2,\"MessageBody\":{\"Message\":\"hi\"},"
     "\"SendMsgOptions\":{\"TargetOption\":{\"Inclusive\":\"true\"}}}",
     "SendMsgOptions.TargetOption.Inclusive", BAD},
    {G,
     "{\"FromUserId\":\"u1\",\"MessageType\":1,\"Priority\":2,"
     "\"MessageBody\":{\"Message\":\"hi\"}}",
     "GroupId", BAD},
};

static const struct tcase enums[] = {
    /* Priority: required 1..3 on peer and group, absent on broadcast */
    {P,
     PEER_HEAD "\"MessageType\":1,\"Priority\":3,\"MessageBody\":"
               "{\"Message\":\"hi\"}}",
     OK, 0},
    {P,
     PEER_HEAD "\"MessageType\":1,\"Priority\":4,\"MessageBody\":"
               "{\"Message\":\"hi\"}}",
     "Priority", BAD},
    {P,
     PEER_HEAD "\"MessageType\":1,\"Priority\":0,\"MessageBody\":"
               "{\"Message\":\"hi\"}}",
     "Priority", BAD},
    {P, PEER_HEAD "\"MessageType\":1,\"MessageBody\":{\"Message\":\"hi\"}}",
     "Priority", BAD},
    {P,
     PEER_HEAD "\"MessageType\":1,\"Priority\":\"1\",\"MessageBody\":"
               "{\"Message\":\"hi\"}}",
     "Priority", BAD},
    {P,
     PEER_HEAD "\"MessageType\":1,\"Priority\":1.0,\"MessageBody\":"
               "{\"Message\":\"hi\"}}",
     "Priority", BAD},
    {G,
     "{\"FromUserId\":\"u1\",\"GroupId\":\"g1\",\"MessageType\":1,"
     "\"MessageBody\":{\"Message\":\"hi\"}}",
     "Priority", BAD},
    /* Another action's field: refused whatever event.unknown_fields says
     * (a peer event on the broadcast topic must not go to every user). */
    {B,
     "{\"FromUserId\":\"u1\",\"MessageType\":1,\"Priority\":1,"
     "\"MessageBody\":{\"Message\":\"hi\"}}",
     "Priority", BAD},
    /* MessageType per conversation type */
    {P,
     PEER_HEAD "\"MessageType\":2,\"Priority\":1,\"MessageBody\":"
               "{\"Message\":\"cmd\"}}",
     OK, 0},
    {P,
     PEER_HEAD "\"MessageType\":20,\"Priority\":1,\"MessageBody\":"
               "{\"Message\":\"hi\"}}",
     "MessageType", BAD},
    {G,
     "{\"FromUserId\":\"u1\",\"GroupId\":\"g1\",\"MessageType\":20,"
     "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"}}",
     "MessageType", BAD},
    {P,
     PEER_HEAD "\"MessageType\":3,\"Priority\":1,\"MessageBody\":"
               "{\"Message\":\"hi\"}}",
     "MessageType", BAD},
    {P,
     PEER_HEAD "\"MessageType\":\"1\",\"Priority\":1,\"MessageBody\":"
               "{\"Message\":\"hi\"}}",
     "MessageType", BAD},
    {B,
     "{\"FromUserId\":\"u1\",\"MessageType\":14,\"MessageBody\":"
     "{\"Message\":\"{\\\"Uid\\\":\\\"v\\\",\\\"Url\\\":\\\"https://x/v."
     "mp4\\\",\\\"FileName\\\":\\\"v.mp4\\\"}\"}}",
     OK, 0},
    {B,
     "{\"FromUserId\":\"u1\",\"MessageType\":2,\"MessageBody\":"
     "{\"Message\":\"cmd\"}}",
     "MessageType", BAD},
    {B,
     "{\"FromUserId\":\"u1\",\"MessageType\":10,\"MessageBody\":"
     "{\"Message\":\"x\"}}",
     "MessageType", BAD},
    /* The docs' own broadcast example sends SubMsgType 0 with type 1. */
    {B,
     "{\"FromUserId\":\"u1\",\"MessageType\":1,\"MessageBody\":"
     "{\"Message\":\"hello world\",\"ExtendedData\":\"s\"},"
     "\"SubMsgType\":0,\"PushType\":0}",
     OK, 0},
    /* PushType 0..2 */
    {B,
     "{\"FromUserId\":\"u1\",\"MessageType\":1,\"MessageBody\":"
     "{\"Message\":\"hi\"},\"PushType\":2}",
     OK, 0},
    {B,
     "{\"FromUserId\":\"u1\",\"MessageType\":1,\"MessageBody\":"
     "{\"Message\":\"hi\"},\"PushType\":3}",
     "PushType", BAD},
    {B,
     "{\"FromUserId\":\"u1\",\"MessageType\":1,\"MessageBody\":"
     "{\"Message\":\"hi\"},\"PushType\":-1}",
     "PushType", BAD},
    /* SenderUnaware 0..1 (peer only) */
    {P, PEER("\"MessageBody\":{\"Message\":\"hi\"},\"SenderUnaware\":1"), OK,
     0},
    {P, PEER("\"MessageBody\":{\"Message\":\"hi\"},\"SenderUnaware\":2"),
     "SenderUnaware", BAD},
    {G,
     "{\"FromUserId\":\"u1\",\"GroupId\":\"g1\",\"MessageType\":1,"
     "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"},"
     "\"SenderUnaware\":0}",
     "SenderUnaware", BAD},
    /* SendMsgOptions.NoUnread is a bool */
    {P,
     PEER("\"MessageBody\":{\"Message\":\"hi\"},\"SendMsgOptions\":"
          "{\"NoUnread\":false}"),
     OK, 0},
    {P,
     PEER("\"MessageBody\":{\"Message\":\"hi\"},\"SendMsgOptions\":"
          "{\"NoUnread\":1}"),
     "SendMsgOptions.NoUnread", BAD},
};

#define CUSTOM(rest)                                                           \
    PEER_HEAD "\"MessageType\":200,\"Priority\":1,\"MessageBody\":"            \
              "{\"Message\":\"c\"}" rest "}"

static const struct tcase custom[] = {
    /* SubMsgType: required with 200, range 0..200 */
    {P, CUSTOM(",\"SubMsgType\":200"), OK, 0},
    {P, CUSTOM(",\"SubMsgType\":0"), OK, 0},
    {P, CUSTOM(",\"SubMsgType\":201"), "SubMsgType", BAD},
    {P, CUSTOM(",\"SubMsgType\":-1"), "SubMsgType", BAD},
    {P, CUSTOM(""), "SubMsgType", BAD},
    /* SearchedContent: only with 200, at most 64 bytes */
    {P, CUSTOM(",\"SubMsgType\":1,\"SearchedContent\":\"{s64}\""), OK, 0},
    {P, CUSTOM(",\"SubMsgType\":1,\"SearchedContent\":\"{s65}\""),
     "SearchedContent", BAD},
    {P,
     PEER("\"MessageBody\":{\"Message\":\"hi\"},\"SearchedContent\":"
          "\"x\""),
     "SearchedContent", BAD},
    {G,
     "{\"FromUserId\":\"u1\",\"GroupId\":\"g1\",\"MessageType\":200,"
     "\"Priority\":1,\"SubMsgType\":5,\"SearchedContent\":\"{s64}\","
     "\"MessageBody\":{\"Message\":\"c\"}}",
     OK, 0},
    {B,
     "{\"FromUserId\":\"u1\",\"MessageType\":200,\"SubMsgType\":3,"
     "\"MessageBody\":{\"Message\":\"c\"}}",
     OK, 0},
    {B,
     "{\"FromUserId\":\"u1\",\"MessageType\":200,"
     "\"MessageBody\":{\"Message\":\"c\"}}",
     "SubMsgType", BAD},
};

static const struct tcase sizes[] = {
    /* Message: non-empty, at most 2048 bytes by default */
    {P, PEER_MSG("{m2048}"), OK, 0},
    {P, PEER_MSG("{m2049}"), "MessageBody.Message", ZIM_CODE_TOO_LARGE},
    {P, PEER_MSG(""), "MessageBody.Message", BAD},
    {P, PEER("\"MessageBody\":{\"Message\":7}"), "MessageBody.Message", BAD},
    {P, PEER("\"MessageBody\":{}"), "MessageBody.Message", BAD},
    {P, PEER("\"MessageBody\":\"hi\""), "MessageBody", BAD},
    {P, PEER_HEAD "\"MessageType\":1,\"Priority\":1}", "MessageBody", BAD},
    /* ExtendedData: at most 1024 bytes */
    {P,
     PEER("\"MessageBody\":{\"Message\":\"hi\",\"ExtendedData\":"
          "\"{e1024}\"}"),
     OK, 0},
    {P,
     PEER("\"MessageBody\":{\"Message\":\"hi\",\"ExtendedData\":"
          "\"{e1025}\"}"),
     "MessageBody.ExtendedData", ZIM_CODE_TOO_LARGE},
    /* HasReceipt 0..1; OfflinePush fields */
    {P, PEER("\"MessageBody\":{\"Message\":\"hi\",\"HasReceipt\":1}"), OK, 0},
    {P, PEER("\"MessageBody\":{\"Message\":\"hi\",\"HasReceipt\":2}"),
     "MessageBody.HasReceipt", BAD},
    {P,
     PEER("\"MessageBody\":{\"Message\":\"hi\",\"OfflinePush\":{"
          "\"Enable\":1,\"Title\":\"T\",\"Content\":\"C\",\"Payload\":"
          "\"p\",\"EnableBadge\":true,\"BadgeIncrement\":150,"
          "\"ThreadId\":\"t\",\"PushImageInfo\":{\"Apns\":{\"Image\":"
          "\"https://i\"},\"Android\":{\"FCM\":{\"Icon\":\"x\"}}}}}"),
     OK, 0},
    {P,
     PEER("\"MessageBody\":{\"Message\":\"hi\",\"OfflinePush\":{"
          "\"Enable\":2}}"),
     "MessageBody.OfflinePush.Enable", BAD},
    {P,
     PEER("\"MessageBody\":{\"Message\":\"hi\",\"OfflinePush\":{"
          "\"Titel\":\"T\"}}"),
     "MessageBody.OfflinePush.Titel", ZB_CODE_UNKNOWN_FIELD},
    {P,
     PEER("\"MessageBody\":{\"Message\":\"hi\",\"OfflinePush\":{"
          "\"PushImageInfo\":{\"Android\":{\"HuaWei\":{\"Image\":3}}}}}"),
     "MessageBody.OfflinePush.PushImageInfo.Android.HuaWei.Image", BAD},
    /* Command messages: IsBase64, decoded length counts */
    {P,
     PEER_HEAD "\"MessageType\":2,\"Priority\":1,\"MessageBody\":{"
               "\"Message\":\"aGVsbG8=\",\"IsBase64\":1}}",
     OK, 0},
    {P,
     PEER_HEAD "\"MessageType\":2,\"Priority\":1,\"MessageBody\":{"
               "\"Message\":\"aGVsbG8\",\"IsBase64\":1}}",
     "MessageBody.Message", ZIM_CODE_BAD_BASE64},
    {P,
     PEER_HEAD "\"MessageType\":2,\"Priority\":1,\"MessageBody\":{"
               "\"Message\":\"aGV*bG8=\",\"IsBase64\":1}}",
     "MessageBody.Message", ZIM_CODE_BAD_BASE64},
    {P,
     PEER_HEAD "\"MessageType\":2,\"Priority\":1,\"MessageBody\":{"
               "\"Message\":\"{A2728}AA==\",\"IsBase64\":1}}",
     OK, 0}, /* 2048 */
    {P,
     PEER_HEAD "\"MessageType\":2,\"Priority\":1,\"MessageBody\":{"
               "\"Message\":\"{A2732}\",\"IsBase64\":1}}",
     "MessageBody.Message", ZIM_CODE_TOO_LARGE}, /* 2049 decoded */
    {P,
     PEER_HEAD "\"MessageType\":2,\"Priority\":1,\"MessageBody\":{"
               "\"Message\":\"x\",\"IsBase64\":2}}",
     "MessageBody.IsBase64", BAD},
    {P,
     PEER_HEAD "\"MessageType\":2,\"Priority\":1,\"MessageBody\":{"
               "\"Message\":\"x\",\"HasReceipt\":1}}",
     "MessageBody.HasReceipt", ZB_CODE_UNKNOWN_FIELD},
    {P, PEER("\"MessageBody\":{\"Message\":\"hi\",\"IsBase64\":0}"),
     "MessageBody.IsBase64", ZB_CODE_UNKNOWN_FIELD},
};

#define IMG(inner)                                                             \
    PEER_HEAD "\"MessageType\":11,\"Priority\":1,\"MessageBody\":"             \
              "{\"Message\":\"" inner "\"}}"
#define IMG_OK_ORIGIN                                                          \
    "\\\"Origin\\\":{\\\"Url\\\":\\\"u\\\",\\\"Width\\\":1,\\\"Height\\\":2}"

static const struct tcase media[] = {
    {P,
     IMG("{\\\"Uid\\\":\\\"i1\\\"," IMG_OK_ORIGIN
         ",\\\"FileName\\\":\\\"a.png\\\",\\\"Size\\\":10}"),
     OK, 0},
    {P,
     IMG("{\\\"Uid\\\":\\\"i1\\\",\\\"Origin\\\":{\\\"Url\\\":\\\"{u500}"
         "\\\",\\\"Width\\\":1,\\\"Height\\\":2},\\\"FileName\\\":"
         "\\\"a.png\\\"}"),
     OK, 0},
    {P,
     IMG("{\\\"Uid\\\":\\\"i1\\\",\\\"Origin\\\":{\\\"Url\\\":\\\"{u501}"
         "\\\",\\\"Width\\\":1,\\\"Height\\\":2},\\\"FileName\\\":"
         "\\\"a.png\\\"}"),
     "MessageBody.Message.Origin.Url", BAD},
    {P,
     IMG("{\\\"Uid\\\":\\\"i1\\\"," IMG_OK_ORIGIN ",\\\"FileName\\\":"
         "\\\"{f150}\\\"}"),
     OK, 0},
    {P,
     IMG("{\\\"Uid\\\":\\\"i1\\\"," IMG_OK_ORIGIN ",\\\"FileName\\\":"
         "\\\"{f151}\\\"}"),
     "MessageBody.Message.FileName", BAD},
    {P, IMG("{" IMG_OK_ORIGIN ",\\\"FileName\\\":\\\"a\\\"}"),
     "MessageBody.Message.Uid", BAD},
    {P,
     IMG("{\\\"Uid\\\":\\\"i1\\\",\\\"Origin\\\":{\\\"Url\\\":\\\"u\\\"},"
         "\\\"FileName\\\":\\\"a\\\"}"),
     "MessageBody.Message.Origin.Width", BAD},
    {P,
     IMG("{\\\"Uid\\\":\\\"i1\\\"," IMG_OK_ORIGIN ",\\\"FileName\\\":"
         "\\\"a\\\",\\\"FileDownloadUrl\\\":\\\"x\\\"}"),
     "MessageBody.Message.FileDownloadUrl", ZB_CODE_UNKNOWN_FIELD},
    {P, IMG("not json"), "MessageBody.Message", BAD},
    {P, IMG("[1]"), "MessageBody.Message", BAD},
    {P,
     IMG("{\\\"Uid\\\":\\\"i1\\\"," IMG_OK_ORIGIN ",\\\"FileName\\\":"
         "\\\"a\\\",\\\"Thumbnail\\\":{\\\"Url\\\":\\\"{u501}\\\"}}"),
     "MessageBody.Message.Thumbnail.Url", BAD},
    /* file, audio, video */
    {P,
     PEER_HEAD "\"MessageType\":12,\"Priority\":1,\"MessageBody\":{"
               "\"Message\":\"{\\\"Uid\\\":\\\"f\\\",\\\"Url\\\":\\\"u\\\","
               "\\\"FileName\\\":\\\"f.pdf\\\",\\\"Size\\\":1}\"}}",
     OK, 0},
    {P,
     PEER_HEAD
     "\"MessageType\":12,\"Priority\":1,\"MessageBody\":{"
     "\"Message\":\"{\\\"Uid\\\":\\\"f\\\",\\\"FileName\\\":\\\"f\\\"}\"}}",
     "MessageBody.Message.Url", BAD},
    {P,
     PEER_HEAD "\"MessageType\":13,\"Priority\":1,\"MessageBody\":{"
               "\"Message\":\"{\\\"Uid\\\":\\\"a\\\",\\\"Url\\\":\\\"u\\\","
               "\\\"FileName\\\":\\\"a.m4a\\\",\\\"MediaDuration\\\":3}\"}}",
     OK, 0},
    {P,
     PEER_HEAD "\"MessageType\":13,\"Priority\":1,\"MessageBody\":{"
               "\"Message\":\"{\\\"Uid\\\":\\\"a\\\",\\\"Url\\\":\\\"u\\\","
               "\\\"FileName\\\":\\\"a\\\",\\\"MediaDuration\\\":-3}\"}}",
     "MessageBody.Message.MediaDuration", BAD},
    {P,
     PEER_HEAD
     "\"MessageType\":14,\"Priority\":1,\"MessageBody\":{"
     "\"Message\":\"{\\\"Uid\\\":\\\"v\\\",\\\"Url\\\":\\\"u\\\","
     "\\\"FileName\\\":\\\"v\\\",\\\"Thumbnail\\\":{\\\"Url\\\":\\\"t\\\","
     "\\\"Width\\\":1,\\\"Height\\\":1}}\"}}",
     OK, 0},
    {P,
     PEER_HEAD
     "\"MessageType\":14,\"Priority\":1,\"MessageBody\":{"
     "\"Message\":\"{\\\"Uid\\\":\\\"v\\\",\\\"Url\\\":\\\"u\\\","
     "\\\"FileName\\\":\\\"v\\\",\\\"Thumbnail\\\":{\\\"Url\\\":\\\"t\\\","
     "\\\"Width\\\":0,\\\"Height\\\":1}}\"}}",
     "MessageBody.Message.Thumbnail.Width", BAD},
};

#define MULTI(inner)                                                           \
    PEER_HEAD "\"MessageType\":10,\"Priority\":1,\"MessageBody\":"             \
              "{\"Message\":\"{\\\"MultiMsg\\\":[" inner "]}\"}}"
#define ITEM_TXT "{\\\"MsgType\\\":1,\\\"Msg\\\":\\\"t\\\"}"
#define ITEMS5   ITEM_TXT "," ITEM_TXT "," ITEM_TXT "," ITEM_TXT "," ITEM_TXT

static const struct tcase multi[] = {
    {P, MULTI(ITEMS5 "," ITEMS5 "," ITEMS5 "," ITEMS5), OK, 0}, /* 20 */
    {P, MULTI(ITEMS5 "," ITEMS5 "," ITEMS5 "," ITEMS5 "," ITEM_TXT),
     "MessageBody.Message.MultiMsg", BAD}, /* 21 */
    {P, MULTI(""), "MessageBody.Message.MultiMsg", BAD},
    {P, MULTI(ITEM_TXT ",{\\\"MsgType\\\":2,\\\"Msg\\\":\\\"c\\\"}"),
     "MessageBody.Message.MultiMsg[1].MsgType", BAD},
    {P, MULTI("{\\\"MsgType\\\":200,\\\"Msg\\\":\\\"c\\\"}"),
     "MessageBody.Message.MultiMsg[0].SubMsgType", BAD},
    {P,
     MULTI("{\\\"MsgType\\\":200,\\\"SubMsgType\\\":2,\\\"Msg\\\":\\\"c"
           "\\\",\\\"SearchedContent\\\":\\\"{s64}\\\"}"),
     OK, 0},
    {P,
     MULTI("{\\\"MsgType\\\":200,\\\"SubMsgType\\\":2,\\\"Msg\\\":\\\"c"
           "\\\",\\\"SearchedContent\\\":\\\"{s65}\\\"}"),
     "MessageBody.Message.MultiMsg[0].SearchedContent", BAD},
    {P,
     MULTI("{\\\"MsgType\\\":1,\\\"Msg\\\":\\\"c\\\",\\\"SearchedContent"
           "\\\":\\\"s\\\"}"),
     "MessageBody.Message.MultiMsg[0].SearchedContent", BAD},
    /* An image item: Msg is itself JSON (escaped twice). */
    {P,
     MULTI(ITEM_TXT
           ",{\\\"MsgType\\\":11,\\\"Msg\\\":\\\"{\\\\\\\"Uid"
           "\\\\\\\":\\\\\\\"i\\\\\\\",\\\\\\\"Origin\\\\\\\":{\\\\\\\"Url"
           "\\\\\\\":\\\\\\\"u\\\\\\\",\\\\\\\"Width\\\\\\\":1,\\\\\\\""
           "Height\\\\\\\":1},\\\\\\\"FileName\\\\\\\":\\\\\\\"f\\\\\\\"}"
           "\\\"}"),
     OK, 0},
    {P,
     MULTI(ITEM_TXT
           ",{\\\"MsgType\\\":11,\\\"Msg\\\":\\\"{\\\\\\\"Uid"
           "\\\\\\\":\\\\\\\"i\\\\\\\",\\\\\\\"FileName\\\\\\\":\\\\\\\"f"
           "\\\\\\\"}\\\"}"),
     "MessageBody.Message.MultiMsg[1].Msg.Origin", BAD},
    /* Size limit for type 10 is 5120: 37 bytes of frame + the text. */
    {P, MULTI("{\\\"MsgType\\\":1,\\\"Msg\\\":\\\"{t5083}\\\"}"), OK, 0},
    {P, MULTI("{\\\"MsgType\\\":1,\\\"Msg\\\":\\\"{t5084}\\\"}"),
     "MessageBody.Message", ZIM_CODE_TOO_LARGE},
};

static const struct tcase records[] = {
    {P, "not json", "", ZB_CODE_UNREADABLE},
    {P, "", "", ZB_CODE_UNREADABLE},
    {P, "[1,2]", "", ZB_CODE_UNREADABLE},
    {P, "\"str\"", "", ZB_CODE_UNREADABLE},
    {P, "{\"FromUserId\":\"u1\"", "", ZB_CODE_UNREADABLE},
    {P, PEER("\"MessageBody\":{\"Message\":\"hi\"}") "x", "",
     ZB_CODE_UNREADABLE},
    {P, PEER("\"MessageBody\":{\"Message\":\"hi\"}") " \n", OK, 0},
    {P, PEER("\"MessageBody\":{\"Message\":\"\xff\xfe\"}"),
     "MessageBody.Message", ZB_CODE_UNREADABLE},
    {P, "{\"a\":{a20000}", "a", ZB_CODE_UNREADABLE},
    {P, "{[20}1{]20}", "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]",
     ZB_CODE_UNREADABLE}, /* 20 deep: named where it is 16 deep */
    {P, PEER("\"MessageBody\":{\"Message\":\"hi\"},\"ToUserID\":[\"x\"]"),
     "ToUserID", ZB_CODE_UNKNOWN_FIELD},
    {P, PEER("\"MessageBody\":{\"Message\":\"hi\"},\"Extra\":null"), "Extra",
     ZB_CODE_UNKNOWN_FIELD},
    {P, PEER("\"MessageBody\":null"), "MessageBody", BAD},
    {P, PEER("\"MessageBody\":{\"Message\":\"{m40000}\"}"), "",
     ZB_CODE_UNREADABLE}, /* over the 40000-byte limit set below */
    /* Repeated keys: json-c would keep the last one silently. */
    {P, PEER("\"MessageBody\":{\"Message\":\"hi\"},\"ToUserId\":[\"b\"]"),
     "ToUserId", ZB_CODE_UNREADABLE},
    {P, PEER("\"MessageBody\":{\"Message\":\"hi\",\"Message\":\"ho\"}"),
     "MessageBody.Message", ZB_CODE_UNREADABLE},
    {P, PEER("\"MessageBody\":{\"Message\":\"hi\",\"\\u004dessage\":\"ho\"}"),
     "", ZB_CODE_UNREADABLE}, /* the same key, escaped: no path */
    {P, PEER("\"MessageBody\":{\"Message\":\"a:b\\\":c\"}"), OK, 0},
    {P,
     MULTI(ITEM_TXT ",{\\\"MsgType\\\":1,\\\"Msg\\\":\\\"a\\\","
                    "\\\"Msg\\\":\\\"b\\\"}"),
     "MessageBody.Message.MultiMsg[1].Msg", BAD},
};

/* SendRoomMessage (reference §2.5): RoomId as other IDs, types 1, 2, 10,
 * 11-14, 200 and pop-up 20 (rooms only), no OfflinePush, no HasReceipt
 * (660300013), no recipients. */
#define R          EVENT_ROOM
#define ROOM_HEAD  "{\"FromUserId\":\"u1\",\"RoomId\":\"live-1\","
#define ROOM(rest) ROOM_HEAD "\"Priority\":1," rest "}"
static const struct tcase rooms[] = {
    {R, ROOM("\"MessageType\":1,\"MessageBody\":{\"Message\":\"大家好\"}"), OK,
     0},
    {R, ROOM("\"MessageType\":20,\"MessageBody\":{\"Message\":\"弹幕 🎉\"}"), OK,
     0},
    {R,
     ROOM("\"MessageType\":2,\"MessageBody\":{\"Message\":\"eyJ0Ijox"
          "fQ==\",\"IsBase64\":1}"),
     OK, 0},
    {R,
     ROOM("\"MessageType\":200,\"SubMsgType\":7,\"SearchedContent\":\"s\","
          "\"SenderUnaware\":0,\"MessageBody\":{\"Message\":\"c\"}"),
     OK, 0},
    {R,
     "{\"FromUserId\":\"u1\",\"RoomId\":\"{r32}\",\"Priority\":1,"
     "\"MessageType\":1,\"MessageBody\":{\"Message\":\"x\"}}",
     OK, 0},
    {R,
     "{\"FromUserId\":\"u1\",\"RoomId\":\"{r33}\",\"Priority\":1,"
     "\"MessageType\":1,\"MessageBody\":{\"Message\":\"x\"}}",
     "RoomId", BAD},
    {R,
     "{\"FromUserId\":\"u1\",\"RoomId\":\"房间\",\"Priority\":1,"
     "\"MessageType\":1,\"MessageBody\":{\"Message\":\"x\"}}",
     "RoomId", BAD},
    {R,
     "{\"FromUserId\":\"u1\",\"Priority\":1,\"MessageType\":1,"
     "\"MessageBody\":{\"Message\":\"x\"}}",
     "RoomId", BAD},
    {R, ROOM_HEAD "\"MessageType\":1,\"MessageBody\":{\"Message\":\"x\"}}",
     "Priority", BAD},
    {R,
     ROOM("\"MessageType\":1,\"MessageBody\":{\"Message\":\"x\","
          "\"HasReceipt\":0}"),
     "MessageBody.HasReceipt", ZIM_CODE_ROOM_NO_RECEIPT},
    {R,
     ROOM("\"MessageType\":1,\"MessageBody\":{\"Message\":\"x\","
          "\"OfflinePush\":{\"Enable\":1}}"),
     "MessageBody.OfflinePush", BAD},
    {R,
     ROOM("\"MessageType\":1,\"SenderUnaware\":2,\"MessageBody\":{"
          "\"Message\":\"x\"}"),
     "SenderUnaware", BAD},
    {R, ROOM("\"MessageType\":3,\"MessageBody\":{\"Message\":\"x\"}"),
     "MessageType", BAD},
    /* Another action's fields: a peer event on the room topic. */
    {R,
     ROOM("\"ToUserId\":[\"u2\"],\"MessageType\":1,\"MessageBody\":{"
          "\"Message\":\"x\"}"),
     "ToUserId", BAD},
    /* Pop-up on the other topics. */
    {P,
     PEER_HEAD "\"MessageType\":20,\"Priority\":1,\"MessageBody\":{"
               "\"Message\":\"x\"}}",
     "MessageType", BAD},
    {G,
     "{\"FromUserId\":\"u1\",\"GroupId\":\"g\",\"MessageType\":20,"
     "\"Priority\":1,\"MessageBody\":{\"Message\":\"x\"}}",
     "MessageType", BAD},
    {B,
     "{\"FromUserId\":\"u1\",\"MessageType\":20,\"MessageBody\":{"
     "\"Message\":\"x\"}}",
     "MessageType", BAD},
    /* RoomId on the peer topic. */
    {P,
     "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],\"RoomId\":\"r\","
     "\"MessageType\":1,\"Priority\":1,\"MessageBody\":{\"Message\":"
     "\"x\"}}",
     "RoomId", BAD},
};

static void test_rooms(void **s)
{
    (void)s;
    struct event_limits lim = limits();
    run_table(rooms, sizeof(rooms) / sizeof(rooms[0]), &lim);
    /* Kind confusion holds whatever event.unknown_fields says. */
    lim.allow_unknown_fields = true;
    static const struct tcase pass[] = {
        {B,
         "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],\"MessageType\":1,"
         "\"Priority\":1,\"MessageBody\":{\"Message\":\"private\"}}",
         "ToUserId", BAD},
        {B,
         "{\"FromUserId\":\"u1\",\"MessageType\":1,\"Future\":1,"
         "\"MessageBody\":{\"Message\":\"x\"}}",
         OK, 0},
    };
    run_table(pass, sizeof(pass) / sizeof(pass[0]), &lim);
    /* The message names where pop-up belongs, and what the room is. */
    const char *j = PEER_HEAD "\"MessageType\":20,\"Priority\":1,"
                              "\"MessageBody\":{\"Message\":\"x\"}}";
    struct event ev;
    struct event_error err;
    assert_int_equal(event_parse(&ev, EVENT_PEER, j, strlen(j), &lim, &err),
                     -1);
    assert_non_null(strstr(err.message, "it is for room messages"));
    j = ROOM("\"MessageType\":1,\"MessageBody\":{\"Message\":\"x\"}");
    assert_int_equal(event_parse(&ev, EVENT_ROOM, j, strlen(j), &lim, &err), 0);
    assert_string_equal(ev.room_id, "live-1");
    assert_int_equal(ev.priority, 1);
    event_free(&ev);
}

/* Each user once per list: a repeat is named with the entry it repeats. */
static const struct tcase repeats[] = {
    {P, PEER_HEAD_TO("\"x\",\"x\""), "ToUserId[1]", BAD},
    {P, PEER_HEAD_TO("\"a\",\"b\",\"c\",\"b\""), "ToUserId[3]", BAD},
    {P, PEER_HEAD_TO("\"a\",\"A\""), OK, 0}, /* IDs are case-sensitive */
    {P, PEER_HEAD_TO("\"a\",\"a \""), OK, 0},
    {P, PEER_HEAD_TO("\"x\",\"x\",{TO 148}"), "ToUserId[1]", BAD},
    {P, PEER_HEAD_TO("{TO 150},\"r149\""), "ToUserId[150]", BAD},
    {P, PEER_HEAD_TO("{TO 150}"), OK, 0},
    {G,
     "{\"FromUserId\":\"u1\",\"GroupId\":\"g\",\"MessageType\":1,"
     "\"Priority\":1,\"MessageBody\":{\"Message\":\"hi\"},"
     "\"SendMsgOptions\":{\"TargetOption\":{\"ReceiverUserIds\":[\"p\","
     "\"q\",\"p\"]}}}",
     "SendMsgOptions.TargetOption.ReceiverUserIds[2]", BAD},
};

static void test_repeats(void **s)
{
    (void)s;
    struct event_limits lim = limits();
    lim.max_recipients = 200;
    run_table(repeats, sizeof(repeats) / sizeof(repeats[0]), &lim);
    /* The message says which entry it repeats. */
    const char *j = "{\"FromUserId\":\"u1\",\"ToUserId\":[\"a\",\"x\","
                    "\"b\",\"x\"],\"MessageType\":1,\"Priority\":1,"
                    "\"MessageBody\":{\"Message\":\"hi\"}}";
    struct event ev;
    struct event_error err;
    assert_int_equal(event_parse(&ev, EVENT_PEER, j, strlen(j), &lim, &err),
                     -1);
    assert_string_equal(err.field, "ToUserId[3]");
    assert_non_null(strstr(err.message, "same user as ToUserId[1]"));
}

/* A 1 MiB record of 80,000 keys whose last repeats one: named in linear
 * time (it took 8 s of the main loop when each key was compared with
 * every earlier one), also with thousands of repeats of one key. CPU
 * time, so a busy machine does not fail it: the bound is 10x what an
 * ASan build needs, and 1/10 of what the quadratic search took. */
static void test_many_keys(void **s)
{
    (void)s;
    struct event_limits lim = limits();
    lim.max_record_bytes = 1 << 20;
    static const char head[] =
        "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],\"MessageType\":1,"
        "\"Priority\":1,\"MessageBody\":{\"Message\":\"你好 😀\"},"
        "\"ExtendedData\":{";
    for (int variant = 0; variant < 2; variant++) {
        size_t cap = (size_t)1 << 20, n = 0;
        char *j = malloc(cap);
        assert_non_null(j);
        n += (size_t)snprintf(j, cap, "%s", head);
        for (int k = 0; k < 80000 && n + 64 < cap; k++)
            n += (size_t)snprintf(j + n, cap - n, "\"k%06d\":1,",
                                  variant == 0 ? k : k % 2000);
        n += (size_t)snprintf(j + n, cap - n, "\"k000001\":2}}");
        struct event ev;
        struct event_error err;
        clock_t t0 = clock();
        assert_int_equal(event_parse(&ev, EVENT_PEER, j, n, &lim, &err), -1);
        double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
        print_message("%zu bytes, %s: refused in %.3f s of CPU\n", n,
                      variant ? "2,000 keys repeated 40 times" : "one repeat",
                      cpu);
        assert_int_equal(err.code, ZB_CODE_UNREADABLE);
        assert_non_null(strstr(err.message, "appears twice"));
        assert_true(strncmp(err.field, "ExtendedData.k", 14) == 0);
        assert_true(cpu < 2.0);
        free(j);
    }
}

/* tmpl with each "%s" replaced by the next of args, into out. */
static void subst(char *out, size_t n, const char *tmpl,
                  const char *const *args)
{
    size_t k = 0;
    for (const char *p = tmpl; *p;) {
        const char *a = strncmp(p, "%s", 2) == 0 ? *args++ : NULL;
        size_t len = a ? strlen(a) : 1;
        assert_true(k + len < n);
        memcpy(out + k, a ? a : p, len);
        k += len;
        p += a ? 2 : 1;
    }
    out[k] = '\0';
}

/* One valid event per text of the multilingual corpus in each free-text
 * field, and each invalid sequence refused with MessageBody.Message named. */
static void test_multilingual(void **s)
{
    (void)s;
    struct event_limits lim = limits();
    struct corpus c;
    corpus_load(&c);
    static const char *const tmpl[] = {
        "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],\"MessageType\":1,"
        "\"Priority\":1,\"MessageBody\":{\"Message\":\"%s\","
        "\"ExtendedData\":\"%s\",\"OfflinePush\":{\"Enable\":1,"
        "\"Title\":\"%s\",\"Content\":\"%s\"}}}",
        "{\"FromUserId\":\"u1\",\"GroupId\":\"g1\",\"MessageType\":200,"
        "\"SubMsgType\":3,\"SearchedContent\":\"%s\",\"Priority\":2,"
        "\"MessageBody\":{\"Message\":\"%s\",\"ExtendedData\":\"%s\"}%s}",
    };
    size_t n_valid = 0;
    for (size_t i = 0; i < c.n; i++) {
        const struct corpus_text *t = &c.v[i];
        char j[8192], esc[1024];
        struct event ev;
        struct event_error err;
        if (!t->valid) {
            subst(j, sizeof(j), tmpl[0],
                  (const char *const[]){t->bytes, "x", "t", "c"});
            assert_int_equal(
                event_parse(&ev, EVENT_PEER, j, strlen(j), &lim, &err), -1);
            assert_string_equal(err.field, "MessageBody.Message");
            assert_int_equal(err.code, ZB_CODE_UNREADABLE);
            if (strstr(err.message, t->why) == NULL)
                fail_msg("%s: '%s', want '%s'", t->name, err.message, t->why);
            continue;
        }
        corpus_json_escape(t, esc, sizeof(esc));
        subst(j, sizeof(j), tmpl[0], (const char *const[]){esc, esc, esc, esc});
        if (event_parse(&ev, EVENT_PEER, j, strlen(j), &lim, &err) != 0)
            fail_msg("%s refused: %s: %s", t->name, err.field, err.message);
        event_free(&ev);
        /* SearchedContent is 64 bytes at most: the first 40 bytes of the
         * escaped text may end mid-character, so only whole ones. */
        char sc[64];
        snprintf(sc, sizeof(sc), "%s", t->len <= 16 ? t->bytes : "检索");
        subst(j, sizeof(j), tmpl[1],
              (const char *const[]){strchr(sc, '"') ? "q" : sc, esc, esc, ""});
        if (event_parse(&ev, EVENT_GROUP, j, strlen(j), &lim, &err) != 0)
            fail_msg("%s refused (group): %s: %s", t->name, err.field,
                     err.message);
        event_free(&ev);
        n_valid++;
    }
    assert_true(n_valid >= 20);
    corpus_free(&c);
}

#define PEER_CUSTOM_SC                                                         \
    "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],\"MessageType\":200,"        \
    "\"SubMsgType\":1,\"Priority\":1,\"SearchedContent\":\"%s\","              \
    "\"MessageBody\":{\"Message\":\"m\"}}"
#define PEER_IMG_NAME                                                          \
    "{\"FromUserId\":\"u1\",\"ToUserId\":[\"u2\"],\"MessageType\":11,"         \
    "\"Priority\":1,\"MessageBody\":{\"Message\":\"{\\\"Uid\\\":\\\"i\\\","    \
    "\\\"Origin\\\":{\\\"Url\\\":\\\"https://x/y\\\",\\\"Width\\\":1,"         \
    "\\\"Height\\\":1},\\\"FileName\\\":\\\"%s\\\"}\"}}"

/* Limits count bytes of UTF-8 (reference §4.2: "2 KB"): 512 four-byte
 * emoji fill Message exactly, one more byte is over. */
static void test_four_byte_limits(void **s)
{
    (void)s;
    struct event_limits lim = limits();
    const char *emoji = "\xF0\x9F\x98\x80"; /* U+1F600, 4 bytes */
    static const struct {
        const char *tmpl; /* %s: the text */
        size_t fourbyte, ascii;
        const char *field;
        int64_t code;
    } t[] = {
        {PEER_MSG("%s"), 512, 0, OK, 0},
        {PEER_MSG("%s"), 511, 4, OK, 0},
        {PEER_MSG("%s"), 511, 5, "MessageBody.Message", ZIM_CODE_TOO_LARGE},
        {PEER_MSG("%s"), 513, 0, "MessageBody.Message", ZIM_CODE_TOO_LARGE},
        {PEER("\"MessageBody\":{\"Message\":\"m\",\"ExtendedData\":\"%s\"}"),
         256, 0, OK, 0},
        {PEER("\"MessageBody\":{\"Message\":\"m\",\"ExtendedData\":\"%s\"}"),
         256, 1, "MessageBody.ExtendedData", ZIM_CODE_TOO_LARGE},
        {PEER_CUSTOM_SC, 16, 0, OK, 0},
        {PEER_CUSTOM_SC, 16, 1, "SearchedContent", BAD},
        {PEER_IMG_NAME, 37, 2, OK, 0},
        {PEER_IMG_NAME, 37, 3, "MessageBody.Message.FileName", BAD},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char text[4096] = "", j[8192];
        size_t n = 0;
        for (size_t k = 0; k < t[i].fourbyte; k++, n += 4)
            memcpy(text + n, emoji, 4);
        memset(text + n, 'a', t[i].ascii);
        text[n + t[i].ascii] = '\0';
        subst(j, sizeof(j), t[i].tmpl, (const char *const[]){text});
        struct tcase tc = {P, j, t[i].field, t[i].code};
        run_table(&tc, 1, &lim);
    }
}

static void test_ids(void **s)
{
    (void)s;
    struct event_limits lim = limits();
    run_table(ids, sizeof(ids) / sizeof(ids[0]), &lim);
}

static void test_enums(void **s)
{
    (void)s;
    struct event_limits lim = limits();
    run_table(enums, sizeof(enums) / sizeof(enums[0]), &lim);
}

static void test_custom(void **s)
{
    (void)s;
    struct event_limits lim = limits();
    run_table(custom, sizeof(custom) / sizeof(custom[0]), &lim);
}

static void test_sizes(void **s)
{
    (void)s;
    struct event_limits lim = limits();
    run_table(sizes, sizeof(sizes) / sizeof(sizes[0]), &lim);
}

static void test_media(void **s)
{
    (void)s;
    struct event_limits lim = limits();
    run_table(media, sizeof(media) / sizeof(media[0]), &lim);
}

static void test_multi(void **s)
{
    (void)s;
    struct event_limits lim = limits();
    run_table(multi, sizeof(multi) / sizeof(multi[0]), &lim);
}

static void test_records(void **s)
{
    (void)s;
    struct event_limits lim = limits();
    lim.max_record_bytes = 40000;
    run_table(records, sizeof(records) / sizeof(records[0]), &lim);
}

/* Settings move the limits: raised message size, unknown fields passed. */
static void test_settings_change_rules(void **s)
{
    (void)s;
    struct config cfg;
    char err[256];
    config_init(&cfg);
    assert_int_equal(
        config_set(&cfg, "event.max_message_bytes", "4096", err, sizeof(err)),
        0);
    assert_int_equal(
        config_set(&cfg, "event.unknown_fields", "pass", err, sizeof(err)), 0);
    struct event_limits lim;
    event_limits_from_config(&cfg, &lim);
    config_free(&cfg);
    static const struct tcase t[] = {
        {P, PEER_MSG("{m4096}"), OK, 0},
        {P, PEER_MSG("{m4097}"), "MessageBody.Message", ZIM_CODE_TOO_LARGE},
        {P,
         PEER("\"MessageBody\":{\"Message\":\"hi\",\"Future\":1},"
              "\"ToUserID\":[\"x\"]"),
         OK, 0},
    };
    run_table(t, sizeof(t) / sizeof(t[0]), &lim);
}

/* Sender policies, set as an operator sets them: each refusal has its own
 * code and names the setting; unset, anyone may send at any priority. */
static void test_sender_policy(void **s)
{
    (void)s;
    struct config cfg;
    char err[256];
    config_init(&cfg);
    assert_int_equal(config_set(&cfg, "peer.allowed_from", "svc-chat-*, ops",
                                err, sizeof(err)),
                     0);
    assert_int_equal(
        config_set(&cfg, "group.allowed_from", "bot_*", err, sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "broadcast.allowed_from", "announcer,ops",
                                err, sizeof(err)),
                     0);
    assert_int_equal(
        config_set(&cfg, "peer.max_priority", "2", err, sizeof(err)), 0);
    assert_int_equal(
        config_set(&cfg, "room.allowed_from", "*", err, sizeof(err)), 0);
    assert_int_equal(
        config_set(&cfg, "room.max_priority", "0", err, sizeof(err)), -1);
    struct event_limits lim;
    event_limits_from_config(&cfg, &lim);
#define PEER_FROM(from, prio)                                                  \
    "{\"FromUserId\":\"" from "\",\"ToUserId\":[\"u2\"],\"MessageType\":1,"    \
    "\"Priority\":" prio ",\"MessageBody\":{\"Message\":\"你好 مرحبا 👋\"}}"
#define GROUP_FROM(from)                                                       \
    "{\"FromUserId\":\"" from "\",\"GroupId\":\"g\",\"MessageType\":1,"        \
    "\"Priority\":3,\"MessageBody\":{\"Message\":\"こんにちは\"}}"
#define BCAST_FROM(from)                                                       \
    "{\"FromUserId\":\"" from "\",\"MessageType\":1,\"MessageBody\":"          \
    "{\"Message\":\"全员通知 📣\"}}"
    const int64_t SND = ZB_CODE_SENDER_POLICY, PRI = ZB_CODE_PRIORITY_POLICY;
    static const struct tcase t[] = {
        {P, PEER_FROM("svc-chat-7", "2"), OK, 0},
        {P, PEER_FROM("svc-chat-", "1"), OK, 0},
        {P, PEER_FROM("ops", "1"), OK, 0},
        {P, PEER_FROM("opsx", "1"), "FromUserId", 900000003},
        {P, PEER_FROM("svc-cha", "1"), "FromUserId", 900000003},
        {P, PEER_FROM("mallory", "1"), "FromUserId", 900000003},
        {P, PEER_FROM("svc-chat-7", "3"), "Priority", 900000004},
        {G, GROUP_FROM("bot_1"), OK, 0},
        {G, GROUP_FROM("bot"), "FromUserId", 900000003},
        {B, BCAST_FROM("announcer"), OK, 0},
        {B, BCAST_FROM("ops"), OK, 0},
        {B, BCAST_FROM("announcer2"), "FromUserId", 900000003},
        {B, BCAST_FROM("svc-chat-7"), "FromUserId", 900000003},
        {EVENT_ROOM,
         ROOM("\"MessageType\":1,\"MessageBody\":{\"Message\":\"x\"}"), OK, 0},
    };
    assert_int_equal(SND, 900000003);
    assert_int_equal(PRI, 900000004);
    run_table(t, sizeof(t) / sizeof(t[0]), &lim);
    /* The message names the setting, never the list. */
    struct event ev;
    struct event_error e;
    const char *j = BCAST_FROM("mallory");
    assert_int_equal(event_parse(&ev, B, j, strlen(j), &lim, &e), -1);
    assert_string_equal(e.message,
                        "this sender may not send broadcast messages "
                        "(broadcast.allowed_from)");
    j = PEER_FROM("ops", "3");
    assert_int_equal(event_parse(&ev, P, j, strlen(j), &lim, &e), -1);
    assert_string_equal(e.message, "3 is above peer.max_priority (2)");
    /* Prefixes are refused for broadcasts: they reach every user. */
    assert_int_equal(
        config_set(&cfg, "broadcast.allowed_from", "ann*", err, sizeof(err)),
        0);
    assert_int_equal(config_set(&cfg, "zim.app_id", "1", err, sizeof(err)), 0);
    assert_int_equal(
        config_set(&cfg, "zim.server_secret", "s", err, sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "kafka.bootstrap.servers", "127.0.0.1:9",
                                err, sizeof(err)),
                     0);
    assert_int_equal(config_finish(&cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "broadcast.allowed_from takes exact"));
    config_free(&cfg);
    /* Unset: anyone, any priority. */
    lim = limits();
    j = PEER_FROM("mallory", "3");
    assert_int_equal(event_parse(&ev, P, j, strlen(j), &lim, &e), 0);
    event_free(&ev);
}

/* What the bridge reads from a valid event. */
static void test_accessors(void **s)
{
    (void)s;
    struct event_limits lim = limits();
    struct event ev;
    struct event_error err;
    const char *g = "{\"FromUserId\":\"alice\",\"GroupId\":\"room 7\","
                    "\"MessageType\":1,\"Priority\":3,\"MessageBody\":"
                    "{\"Message\":\"hi\"}}";
    assert_int_equal(event_parse(&ev, EVENT_GROUP, g, strlen(g), &lim, &err),
                     0);
    assert_string_equal(ev.from, "alice");
    assert_string_equal(ev.group_id, "room 7");
    assert_int_equal(ev.priority, 3);
    assert_int_equal(ev.message_type, 1);
    assert_null(ev.to);
    event_free(&ev);
    assert_null(ev.root);
    assert_string_equal(event_kind_action(EVENT_BROADCAST),
                        "SendMessageToAllUsers");
    enum event_kind k;
    assert_int_equal(event_kind_parse("group", &k), 0);
    assert_int_equal(k, EVENT_GROUP);
    assert_int_equal(event_kind_parse("room", &k), 0);
    assert_int_equal(k, EVENT_ROOM);
    assert_int_equal(event_kind_parse("roomz", &k), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_custom),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_media),
        cmocka_unit_test(test_multi),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_settings_change_rules),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_sender_policy),
        cmocka_unit_test(test_repeats),
        cmocka_unit_test(test_rooms),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_multilingual),
        cmocka_unit_test(test_four_byte_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
