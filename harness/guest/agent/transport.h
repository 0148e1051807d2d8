/* pcshare-agent: transport — finding/opening the virtio-serial port, the buffered line reader, full writes. */
#ifndef PCSHARE_TRANSPORT_H
#define PCSHARE_TRANSPORT_H

#include <stddef.h>

#define MAX_LINE (1024 * 1024)   /* longest accepted request line, without the newline */
#define LINE_HEAD 256            /* bytes of an overlong line kept to recover its id */
#define PORT_NAME "pcshare.agent"

typedef struct {
    int fd;
    int eof_exits;               /* --stdio: EOF ends the agent; port: EOF means host not connected */
    char chunk[65536];
    size_t cpos, clen;           /* unread part of chunk */
    char *line;
    size_t len, cap;
    int overlong;
    char head[LINE_HEAD + 1];
    size_t headlen;
} line_reader;

/* Find the virtio port named PORT_NAME (retrying up to timeout_ms) and open it O_RDWR; -1 on failure. */
int open_named_port(int timeout_ms);
/* Open an explicit port path O_RDWR; -1 on failure (message printed). */
int open_port_path(const char *path);

void reader_init(line_reader *r, int fd, int eof_exits);
/* Next line (without '\n', NUL-terminated). Returns 1 with *line, *len, *overlong set, 0 on EOF (stdio mode).
 * For an overlong line, *line holds its first LINE_HEAD bytes only. */
int reader_next(line_reader *r, const char **line, size_t *len, int *overlong);

/* Write all of buf; 0 or -1 with errno. */
int write_all(int fd, const char *buf, size_t n);

#endif
