/* filewatch.c - file change detection by stat(). */
#include "filewatch.h"

#include <stdlib.h>
#include <string.h>

static bool look(struct filewatch *w, struct stat *st)
{
    return stat(w->path, st) == 0;
}

static void record(struct filewatch *w, const struct stat *st)
{
    w->dev = st->st_dev;
    w->ino = st->st_ino;
    w->size = st->st_size;
    w->mtime = st->st_mtim;
    w->missing = false;
}

int filewatch_init(struct filewatch *w, const char *path)
{
    memset(w, 0, sizeof(*w));
    if (path == NULL)
        return 0;
    if ((w->path = strdup(path)) == NULL)
        return -1;
    struct stat st;
    if (look(w, &st))
        record(w, &st);
    else
        w->missing = true;
    return 0;
}

void filewatch_free(struct filewatch *w)
{
    free(w->path);
    memset(w, 0, sizeof(*w));
}

bool filewatch_changed(struct filewatch *w)
{
    struct stat st;
    if (w->path == NULL)
        return false;
    if (!look(w, &st)) {
        w->missing = true;
        return false;
    }
    bool changed = w->missing || st.st_dev != w->dev || st.st_ino != w->ino ||
                   st.st_size != w->size ||
                   st.st_mtim.tv_sec != w->mtime.tv_sec ||
                   st.st_mtim.tv_nsec != w->mtime.tv_nsec;
    record(w, &st);
    return changed;
}

void filewatch_retry(struct filewatch *w)
{
    w->missing = true;
}
