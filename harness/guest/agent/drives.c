/* Names the image drives: /dev/disk/pcshare/<serial> -> /dev/vdX for every virtio-blk disk with a
 * serial. Done here rather than in init's shell loop, where two forks per drive cost about 20 ms
 * each under TCG (a full run attaches ~60 drives). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drives.h"

int link_drives(const char *dir)
{
    mkdir("/dev/disk", 0755);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "pcshare-agent: mkdir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    DIR *d = opendir("/sys/block");
    if (!d) {
        fprintf(stderr, "pcshare-agent: /sys/block: %s\n", strerror(errno));
        return -1;
    }
    int linked = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "vd", 2) != 0) continue;
        char path[512], serial[64], target[300], link[512];
        snprintf(path, sizeof path, "/sys/block/%s/serial", e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0) continue;
        ssize_t n = read(fd, serial, sizeof serial - 1);
        close(fd);
        if (n <= 0) continue;
        serial[n] = 0;
        serial[strcspn(serial, "\n")] = 0;
        if (!serial[0] || strchr(serial, '/')) continue;
        snprintf(target, sizeof target, "/dev/%s", e->d_name);
        snprintf(link, sizeof link, "%s/%s", dir, serial);
        unlink(link);
        if (symlink(target, link) < 0) {
            fprintf(stderr, "pcshare-agent: symlink %s: %s\n", link, strerror(errno));
            continue;
        }
        linked++;
    }
    closedir(d);
    return linked;
}
