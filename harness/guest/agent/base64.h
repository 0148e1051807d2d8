/* pcshare-agent: standard base64 (RFC 4648, with padding) encode/decode. */
#ifndef PCSHARE_BASE64_H
#define PCSHARE_BASE64_H

#include <stddef.h>

size_t base64_encoded_len(size_t n);
/* Writes base64_encoded_len(n) chars to out (no NUL). */
void base64_encode(const void *data, size_t n, char *out);
/* Decodes n chars of in (padding optional, no whitespace) into a malloc'ed buffer.
 * Returns 0 and sets *out and *outlen, or -1 on invalid input. */
int base64_decode(const char *in, size_t n, unsigned char **out, size_t *outlen);

#endif
