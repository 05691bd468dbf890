/* fileio.h - reading whole small files: certificates, keys and the
 * secret files that Kubernetes mounts. */
#ifndef ZB_FILEIO_H
#define ZB_FILEIO_H

#include <stddef.h>

/* Reads at most max bytes of path into a new NUL-terminated buffer (*len,
 * if not NULL, gets its length). NULL on failure, with errno set (EFBIG:
 * longer than max). The caller frees it. */
char *file_read(const char *path, size_t max, size_t *len);

/* The secret in path: its first line, surrounding white space removed.
 * 0 and *out (the caller wipes and frees it), or -1 with err filled; err
 * names the file and never holds the secret. */
int file_read_secret(const char *path, char **out, char *err, size_t errlen);

/* Overwrites and frees a secret from file_read_secret (NULL: no-op). */
void file_free_secret(char *secret);

#endif
