/* fileio.c - small files. */
#define LOG_COMPONENT "config"
#include "fileio.h"

#include "log.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_FILE_MAX 4096

char *file_read(const char *path, size_t max, size_t *len)
{
    /* read(2) into our buffer, not stdio: a FILE's buffer would keep a
     * copy of a secret file that nobody wipes. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *s = malloc(max + 2);
    size_t n = 0;
    int failed = s == NULL;
    while (!failed && n <= max) {
        ssize_t r = read(fd, s + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            failed = r < 0;
            break;
        }
        n += (size_t)r;
    }
    int saved = errno;
    close(fd);
    if (failed || n > max) {
        if (s)
            for (size_t i = 0; i < n && i <= max; i++)
                ((volatile char *)s)[i] = '\0';
        free(s);
        errno = failed ? (s ? saved : ENOMEM) : EFBIG;
        return NULL;
    }
    s[n] = '\0';
    if (len)
        *len = n;
    return s;
}

void file_free_secret(char *secret)
{
    if (secret == NULL)
        return;
    /* volatile: the compiler may not drop a write before free() */
    for (volatile char *p = secret; *p; p++)
        *p = '\0';
    free(secret);
}

/* Whether this process is in group gid. */
static bool in_group(gid_t gid)
{
    if (gid == getegid())
        return true;
    gid_t groups[64];
    int n = getgroups(64, groups);
    for (int i = 0; i < n; i++)
        if (groups[i] == gid)
            return true;
    return false;
}

/* A secret others can read is logged (its mode, never its content).
 * Readable by its group only when we are not in that group: Kubernetes
 * mounts a Secret as root:<fsGroup> 0440 for a non-root user, and the
 * pod's own fsGroup is not "others". */
static void check_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (st.st_mode & S_IROTH)
        log_warnx("secret file %s is readable by every user (mode %03o): "
                  "chmod o-rwx",
                  path, (unsigned)(st.st_mode & 0777));
    else if ((st.st_mode & S_IRGRP) && !in_group(st.st_gid))
        log_warnx("secret file %s is readable by group %u, which this "
                  "process is not in (mode %03o): chmod g-rwx",
                  path, (unsigned)st.st_gid, (unsigned)(st.st_mode & 0777));
}

int file_read_secret(const char *path, char **out, char *err, size_t errlen)
{
    size_t n = 0;
    char *s = file_read(path, SECRET_FILE_MAX, &n);
    if (s == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    s[strcspn(s, "\r\n")] = '\0'; /* the first line only */
    char *b = s;
    while (isspace((unsigned char)*b))
        b++;
    size_t bl = strlen(b);
    while (bl && isspace((unsigned char)b[bl - 1]))
        bl--;
    char *secret = bl ? strndup(b, bl) : NULL;
    for (size_t i = 0; i < n; i++) /* wipe the whole file's copy */
        ((volatile char *)s)[i] = '\0';
    free(s);
    if (bl == 0) {
        snprintf(err, errlen, "%s is empty", path);
        return -1;
    }
    if (secret == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    check_mode(path);
    *out = secret;
    return 0;
}
