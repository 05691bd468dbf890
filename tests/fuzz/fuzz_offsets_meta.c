/* fuzz_offsets_meta.c - the commit metadata decoder (offsets_skip_decode)
 * on arbitrary bytes: the metadata of a commit is read back at assignment
 * from whatever wrote the group's commit last (another tool, a damaged
 * value). Asserts that what it says is consistent (offsets named finished
 * are above the base and at most offsets_skip_last()). Then a round trip:
 * the input's bits say which of a partition's offsets finished; the
 * metadata written for them (cut to a bound from the input) must decode
 * to exactly those offsets up to what it covers, and never name an
 * offset that did not finish. Its time is when the lowest offset not
 * done was tracked (now, when all are done), and decodes to the same.
 *
 * Input: 8 bytes of base, 2 bytes of bound, then metadata bytes; the same
 * bytes after the first 10 are the bits of the round trip. */
#include "offsets.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_any(int64_t base, const char *meta, size_t len)
{
    struct offsets_skip s;
    if (offsets_skip_decode(&s, base, meta, len) != 0)
        return;
    int64_t last = offsets_skip_last(&s);
    if (last != -1 && last < base)
        abort();
    for (int64_t off = base - 3; off < base + 4200; off++) {
        bool has = offsets_skip_has(&s, off);
        if (has && (off < base || last == -1 || off > last))
            abort();
    }
    if (last != -1 && !offsets_skip_has(&s, last))
        abort();
    offsets_skip_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 10)
        return 0;
    uint64_t b = 0;
    for (int i = 0; i < 8; i++)
        b = b << 8 | data[i];
    int64_t base = (int64_t)(b & 0x3fffffffffffULL); /* Kafka offsets */
    size_t bound = ((size_t)data[8] << 8 | data[9]) % (OFFSETS_META_MAX + 1);
    const char *meta = (const char *)data + 10;
    size_t len = size - 10;
    decode_any(base, meta, len);

    /* Round trip: bit i of the rest says whether base + i finished. */
    size_t n = len * 8 > 4096 ? 4096 : len * 8;
    struct offsets o;
    offsets_init(&o);
    for (size_t i = 0; i < n; i++)
        if (offsets_track(&o, base + (int64_t)i, 1000 + (int64_t)i) != 0)
            abort();
    for (size_t i = 0; i < n; i++)
        if (data[10 + i / 8] >> (i % 8) & 1)
            offsets_done(&o, base + (int64_t)i);
    struct offsets_commit c;
    const int64_t now = 1 << 30;
    offsets_commit_point(&o, bound, now, &c);
    if (c.meta_len > bound || c.meta_len > OFFSETS_META_MAX)
        abort();
    if (n > 0 &&
        c.since_ms !=
            (c.offset == base + (int64_t)n ? now : 1000 + (c.offset - base)))
        abort(); /* outcomes older than the time would be missed */
    struct offsets_skip s;
    if (offsets_skip_decode(&s, c.offset, c.meta, c.meta_len) == 0) {
        if (c.meta_len > 0 && s.since_ms != c.since_ms)
            abort();
        for (size_t i = 0; i < n; i++) {
            int64_t off = base + (int64_t)i;
            bool done = data[10 + i / 8] >> (i % 8) & 1;
            bool has = offsets_skip_has(&s, off);
            if (has && !done)
                abort(); /* a record that did not finish would be lost */
            if (done && off > c.offset && off <= c.covered && !has)
                abort(); /* covered, finished, yet not said */
            if (off < c.offset && !done)
                abort(); /* committed past a record not done */
        }
        offsets_skip_free(&s);
    }
    offsets_free(&o);
    return 0;
}
