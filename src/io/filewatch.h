/* filewatch.h - notices that a file changed: rewritten, or replaced the
 * way Kubernetes updates a mounted Secret (a symlink swapped to a new
 * file). A look is one stat(); the caller decides how often. */
#ifndef ZB_FILEWATCH_H
#define ZB_FILEWATCH_H

#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

struct filewatch {
    char *path; /* NULL: nothing to watch */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    bool missing; /* the last look found no file */
};

/* Watches path (NULL: none) from its state now. 0 or -1 (no memory). */
int filewatch_init(struct filewatch *w, const char *path);
void filewatch_free(struct filewatch *w);
/* True if the file differs from the last look (which this records).
 * A file that went missing is not a change; its return is. */
bool filewatch_changed(struct filewatch *w);
/* Forgets the last look: the next filewatch_changed() is true if the
 * file is there (to try again after a half-written read). */
void filewatch_retry(struct filewatch *w);

#endif
