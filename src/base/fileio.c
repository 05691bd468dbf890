/* fileio.c - small files. */
#include "fileio.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_FILE_MAX 4096

char *file_read(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *s = malloc(max + 1);
    size_t n = s ? fread(s, 1, max, f) : 0;
    int failed = s == NULL || ferror(f);
    int more = !failed && n == max && fgetc(f) != EOF;
    fclose(f);
    if (failed || more) {
        free(s);
        errno = more ? EFBIG : (errno ? errno : ENOMEM);
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
    *out = secret;
    return 0;
}
