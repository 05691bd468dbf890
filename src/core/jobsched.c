/* jobsched.c - per-key FIFOs and per-action priority heaps. */
#include "jobsched.h"

#include "event_kind.h"

#include <stdlib.h>
#include <string.h>

/* One conversation: its nodes in partition order. */
struct jobsched_keyq {
    struct jobsched_node *head, *tail;
    struct jobsched_keyq *next_in_bucket;
    uint64_t hash;
    size_t keylen;
    char key[]; /* topic role, partition or key bytes */
};

struct heap {
    struct jobsched_node **v;
    size_t n, cap;
};

/* The ready nodes of one group (what may share a call), oldest first. */
struct jobsched_group {
    uint64_t group;
    struct jobsched_node *head, *tail;
    struct jobsched_group *next_in_bucket;
};

struct jobsched {
    enum ordering ord;
    struct jobsched_keyq **buckets;
    size_t n_buckets, n_keys;
    struct heap ready[EVENT_KIND_COUNT];
    uint64_t seq;
    struct jobsched_group **groups; /* by group % n_groups */
    size_t n_groups, n_group_lists;
};

/* ---- the ready heaps: highest Priority, then lowest seq, on top ---- */

static bool before(const struct jobsched_node *a, const struct jobsched_node *b)
{
    if (a->priority != b->priority)
        return a->priority > b->priority;
    return a->seq < b->seq;
}

static void heap_set(struct heap *h, size_t i, struct jobsched_node *j)
{
    h->v[i] = j;
    j->heap_idx = (int)i;
}

static void sift_up(struct heap *h, size_t i)
{
    struct jobsched_node *j = h->v[i];
    while (i > 0 && before(j, h->v[(i - 1) / 2])) {
        heap_set(h, i, h->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(h, i, j);
}

static void sift_down(struct heap *h, size_t i)
{
    struct jobsched_node *j = h->v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && before(h->v[c + 1], h->v[c]))
            c++;
        if (!before(h->v[c], j))
            break;
        heap_set(h, i, h->v[c]);
        i = c;
    }
    heap_set(h, i, j);
}

static int heap_push(struct heap *h, struct jobsched_node *j)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct jobsched_node **v = realloc(h->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    heap_set(h, h->n++, j);
    sift_up(h, h->n - 1);
    return 0;
}

static void heap_remove(struct heap *h, struct jobsched_node *j)
{
    size_t i = (size_t)j->heap_idx;
    j->heap_idx = -1;
    if (--h->n == i)
        return;
    heap_set(h, i, h->v[h->n]);
    sift_down(h, i);
    sift_up(h, (size_t)h->v[i]->heap_idx);
}

/* ---- the groups of ready nodes ---- */

static struct jobsched_group **group_slot(struct jobsched *s, uint64_t g)
{
    struct jobsched_group **pp = &s->groups[g % s->n_groups];
    while (*pp && (*pp)->group != g)
        pp = &(*pp)->next_in_bucket;
    return pp;
}

static int groups_grow(struct jobsched *s)
{
    size_t n = s->n_groups ? s->n_groups * 2 : 256;
    struct jobsched_group **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return -1;
    for (size_t i = 0; i < s->n_groups; i++) {
        for (struct jobsched_group *g = s->groups[i], *next; g; g = next) {
            next = g->next_in_bucket;
            g->next_in_bucket = b[g->group % n];
            b[g->group % n] = g;
        }
    }
    free(s->groups);
    s->groups = b;
    s->n_groups = n;
    return 0;
}

/* Into its group's list, in seq order (a requeued node is older). Without
 * memory for the list, the node is ready but packs with nothing. */
static void group_link(struct jobsched *s, struct jobsched_node *j)
{
    if (j->group == 0 ||
        (s->n_group_lists >= s->n_groups && groups_grow(s) == -1))
        return;
    struct jobsched_group **pp = group_slot(s, j->group), *g = *pp;
    if (g == NULL) {
        if ((g = calloc(1, sizeof(*g))) == NULL)
            return;
        g->group = j->group;
        *pp = g;
        s->n_group_lists++;
    }
    struct jobsched_node *after = g->tail;
    while (after && after->seq > j->seq)
        after = after->grp_prev;
    j->grp = g;
    j->grp_prev = after;
    j->grp_next = after ? after->grp_next : g->head;
    if (j->grp_next)
        j->grp_next->grp_prev = j;
    else
        g->tail = j;
    if (after)
        after->grp_next = j;
    else
        g->head = j;
}

static void group_unlink(struct jobsched *s, struct jobsched_node *j)
{
    struct jobsched_group *g = j->grp;
    if (g == NULL)
        return;
    if (j->grp_prev)
        j->grp_prev->grp_next = j->grp_next;
    else
        g->head = j->grp_next;
    if (j->grp_next)
        j->grp_next->grp_prev = j->grp_prev;
    else
        g->tail = j->grp_prev;
    j->grp = NULL;
    j->grp_next = j->grp_prev = NULL;
    if (g->head == NULL) {
        *group_slot(s, g->group) = g->next_in_bucket;
        s->n_group_lists--;
        free(g);
    }
}

/* Ready: on its action's heap and in its group's list. */
static int ready_push(struct jobsched *s, struct jobsched_node *j)
{
    if (heap_push(&s->ready[j->action], j) == -1)
        return -1;
    group_link(s, j);
    return 0;
}

static void ready_remove(struct jobsched *s, struct jobsched_node *j)
{
    heap_remove(&s->ready[j->action], j);
    group_unlink(s, j);
}

/* ---- keys ---- */

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The ordering key of k, written into buf; 0 when unordered. */
static size_t key_of(const struct jobsched *s, const struct jobsched_key *k,
                     char *buf, size_t cap)
{
    if (s->ord == ORDER_NONE)
        return 0;
    buf[0] = (char)k->topic;
    if (s->ord == ORDER_KEY && k->key && k->key_len) {
        size_t n = k->key_len < cap - 2 ? k->key_len : cap - 2;
        buf[1] = 'k';
        memcpy(buf + 2, k->key, n);
        return n + 2;
    }
    buf[1] = 'p';
    memcpy(buf + 2, &k->partition, sizeof(k->partition));
    return 2 + sizeof(k->partition);
}

static int grow(struct jobsched *s)
{
    size_t n = s->n_buckets ? s->n_buckets * 2 : 1024;
    struct jobsched_keyq **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return -1;
    for (size_t i = 0; i < s->n_buckets; i++) {
        for (struct jobsched_keyq *q = s->buckets[i], *next; q; q = next) {
            next = q->next_in_bucket;
            q->next_in_bucket = b[q->hash % n];
            b[q->hash % n] = q;
        }
    }
    free(s->buckets);
    s->buckets = b;
    s->n_buckets = n;
    return 0;
}

static struct jobsched_keyq *keyq_get(struct jobsched *s, const char *key,
                                      size_t n)
{
    if (s->n_keys >= s->n_buckets && grow(s) == -1)
        return NULL;
    uint64_t h = fnv1a(key, n);
    struct jobsched_keyq **slot = &s->buckets[h % s->n_buckets];
    for (struct jobsched_keyq *q = *slot; q; q = q->next_in_bucket)
        if (q->hash == h && q->keylen == n && memcmp(q->key, key, n) == 0)
            return q;
    struct jobsched_keyq *q = calloc(1, sizeof(*q) + n);
    if (q == NULL)
        return NULL;
    q->hash = h;
    q->keylen = n;
    memcpy(q->key, key, n);
    q->next_in_bucket = *slot;
    *slot = q;
    s->n_keys++;
    return q;
}

static void keyq_free(struct jobsched *s, struct jobsched_keyq *q)
{
    struct jobsched_keyq **pp = &s->buckets[q->hash % s->n_buckets];
    while (*pp != q)
        pp = &(*pp)->next_in_bucket;
    *pp = q->next_in_bucket;
    s->n_keys--;
    free(q);
}

/* ---- the API ---- */

struct jobsched *jobsched_new(enum ordering ord)
{
    struct jobsched *s = calloc(1, sizeof(*s));
    if (s)
        s->ord = ord;
    return s;
}

void jobsched_destroy(struct jobsched *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_buckets; i++) {
        for (struct jobsched_keyq *q = s->buckets[i], *next; q; q = next) {
            next = q->next_in_bucket;
            free(q);
        }
    }
    free(s->buckets);
    for (size_t i = 0; i < s->n_groups; i++) {
        for (struct jobsched_group *g = s->groups[i], *next; g; g = next) {
            next = g->next_in_bucket;
            free(g);
        }
    }
    free(s->groups);
    for (int a = 0; a < EVENT_KIND_COUNT; a++)
        free(s->ready[a].v);
    free(s);
}

int jobsched_add(struct jobsched *s, struct jobsched_node *j, int action,
                 int priority, uint64_t group, const struct jobsched_key *k)
{
    char key[512];
    size_t n = key_of(s, k, key, sizeof(key));
    *j = (struct jobsched_node){.action = action,
                                .priority = priority,
                                .seq = ++s->seq,
                                .heap_idx = -1,
                                .group = group};
    if (n == 0)
        return ready_push(s, j);
    struct jobsched_keyq *q = keyq_get(s, key, n);
    if (q == NULL)
        return -1;
    j->kq = q;
    j->kq_prev = q->tail;
    if (q->tail)
        q->tail->kq_next = j;
    else
        q->head = j;
    q->tail = j;
    if (q->head == j && ready_push(s, j) == -1) {
        jobsched_remove(s, j);
        return -1;
    }
    return 0;
}

struct jobsched_node *jobsched_pop(struct jobsched *s, int action)
{
    struct heap *h = &s->ready[action];
    if (h->n == 0)
        return NULL;
    struct jobsched_node *j = h->v[0];
    ready_remove(s, j);
    j->out = true;
    return j;
}

bool jobsched_take(struct jobsched *s, struct jobsched_node *j)
{
    if (j->heap_idx < 0)
        return false;
    ready_remove(s, j);
    j->out = true;
    return true;
}

bool jobsched_is_ready(const struct jobsched_node *j)
{
    return j->heap_idx >= 0;
}

bool jobsched_has_ready(const struct jobsched *s, int action)
{
    return s->ready[action].n > 0;
}

size_t jobsched_ready_count(const struct jobsched *s, int action)
{
    return s->ready[action].n;
}

void jobsched_requeue(struct jobsched *s, struct jobsched_node *j)
{
    j->out = false;
    if (j->heap_idx < 0)
        ready_push(s, j); /* a heap slot existed: no failure */
}

void jobsched_remove(struct jobsched *s, struct jobsched_node *j)
{
    if (j->heap_idx >= 0)
        ready_remove(s, j);
    j->out = true;
    struct jobsched_keyq *q = j->kq;
    if (q == NULL)
        return;
    bool was_head = q->head == j;
    if (j->kq_prev)
        j->kq_prev->kq_next = j->kq_next;
    else
        q->head = j->kq_next;
    if (j->kq_next)
        j->kq_next->kq_prev = j->kq_prev;
    else
        q->tail = j->kq_prev;
    j->kq = NULL;
    j->kq_next = j->kq_prev = NULL;
    if (q->head == NULL) {
        keyq_free(s, q);
        return;
    }
    /* The next record of the conversation may go now. */
    if (was_head && !q->head->out && q->head->heap_idx < 0)
        ready_push(s, q->head);
}

struct jobsched_node *jobsched_group_first(const struct jobsched *s,
                                           uint64_t group)
{
    if (group == 0 || s->n_groups == 0)
        return NULL;
    struct jobsched_group *g = s->groups[group % s->n_groups];
    while (g && g->group != group)
        g = g->next_in_bucket;
    return g ? g->head : NULL;
}

struct jobsched_node *jobsched_group_next(const struct jobsched_node *n)
{
    return n->grp_next;
}

/* Appends j to the growing array *all. 0 or -1 (no memory). */
static int collect(struct jobsched_node ***all, size_t *n, size_t *cap,
                   struct jobsched_node *j)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        struct jobsched_node **v = realloc(*all, c * sizeof(**all));
        if (v == NULL)
            return -1;
        *all = v;
        *cap = c;
    }
    (*all)[(*n)++] = j;
    return 0;
}

void jobsched_foreach_held(struct jobsched *s,
                           void (*fn)(void *, struct jobsched_node *),
                           void *opaque)
{
    /* Collected first: fn may remove nodes, which changes the heaps. */
    struct jobsched_node **all = NULL;
    size_t n = 0, cap = 0;
    for (int a = 0; a < EVENT_KIND_COUNT; a++)
        for (size_t i = 0; i < s->ready[a].n; i++)
            if (s->ready[a].v[i]->kq == NULL && /* else found below */
                collect(&all, &n, &cap, s->ready[a].v[i]) == -1)
                goto out;
    for (size_t b = 0; b < s->n_buckets; b++)
        for (struct jobsched_keyq *q = s->buckets[b]; q; q = q->next_in_bucket)
            for (struct jobsched_node *j = q->head; j; j = j->kq_next)
                if (!j->out && collect(&all, &n, &cap, j) == -1)
                    goto out;
    for (size_t i = 0; i < n; i++)
        fn(opaque, all[i]);
out:
    free(all);
}
