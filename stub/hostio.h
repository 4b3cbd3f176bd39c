/* vFile backend: own fd table, optional confinement to a root directory. Errors are -errno. */
#ifndef STUB_HOSTIO_H
#define STUB_HOSTIO_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/target.h"

struct hostio;
struct hostio *hostio_new(const char *root /* --file-root DIR or NULL */); /* NULL: no memory */
void hostio_free(struct hostio *h);
int hostio_setfs(struct hostio *h, int64_t pid); /* 0 = stub's view; else /proc/PID/root */
int hostio_open(struct hostio *h, const char *path, int flags, int mode, int *fd);
int hostio_close(struct hostio *h, int fd);
int hostio_pread(struct hostio *h, int fd, uint8_t *buf, size_t len, uint64_t off, size_t *done);
int hostio_pwrite(struct hostio *h, int fd, const uint8_t *buf, size_t len, uint64_t off,
		  size_t *done);
int hostio_fstat(struct hostio *h, int fd, struct rsp_file_stat *st);
int hostio_unlink(struct hostio *h, const char *path);
int hostio_readlink(struct hostio *h, const char *path, char *buf, size_t cap, size_t *len);

#endif
