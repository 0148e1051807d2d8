/* pcshare-agent: replaying a recorded step file (the requests of one case, in order) in the guest. */
#ifndef PCSHARE_REPLAY_H
#define PCSHARE_REPLAY_H

#include "json.h"
#include "ops.h"

/* Dispatch one parsed request (main.c); leaves the reply in out. */
enum after_reply handle_request(const jval *req, int stdio_mode, sbuf *out);

/* Run every request of `path` (one JSON object a line); returns 0 when every check held, 1 when one
 * failed, 2 when the file could not be read. */
int replay_file(const char *path);

#endif
