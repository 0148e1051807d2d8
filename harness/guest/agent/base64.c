/* pcshare-agent: standard base64 (RFC 4648, with padding) encode/decode. */
#include "base64.h"

#include <stdlib.h>

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

void base64_encode(const void *data, size_t n, char *out)
{
    const unsigned char *s = data;
    size_t k = 0;
    for (; k + 3 <= n; k += 3) {
        unsigned v = ((unsigned)s[k] << 16) | ((unsigned)s[k + 1] << 8) | s[k + 2];
        *out++ = ALPHABET[(v >> 18) & 63];
        *out++ = ALPHABET[(v >> 12) & 63];
        *out++ = ALPHABET[(v >> 6) & 63];
        *out++ = ALPHABET[v & 63];
    }
    if (n - k == 1) {
        unsigned v = (unsigned)s[k] << 16;
        *out++ = ALPHABET[(v >> 18) & 63];
        *out++ = ALPHABET[(v >> 12) & 63];
        *out++ = '=';
        *out++ = '=';
    } else if (n - k == 2) {
        unsigned v = ((unsigned)s[k] << 16) | ((unsigned)s[k + 1] << 8);
        *out++ = ALPHABET[(v >> 18) & 63];
        *out++ = ALPHABET[(v >> 12) & 63];
        *out++ = ALPHABET[(v >> 6) & 63];
        *out++ = '=';
    }
}

static int val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int base64_decode(const char *in, size_t n, unsigned char **out, size_t *outlen)
{
    while (n > 0 && in[n - 1] == '=') n--;
    if (n % 4 == 1) return -1;
    unsigned char *buf = malloc(n / 4 * 3 + 3);
    if (!buf) return -1;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t k = 0; k < n; k++) {
        int v = val(in[k]);
        if (v < 0) { free(buf); return -1; }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *out = buf;
    *outlen = o;
    return 0;
}
