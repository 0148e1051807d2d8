/* Names the image drives: /dev/disk/pcshare/<serial> -> /dev/vdX for every virtio-blk disk with a
 * serial, or /dev/sdX for every SCSI disk with a unit serial (PCSHARE_DRIVE_BUS=virtio-scsi). Done
 * here rather than in init's shell loop, where two forks per drive cost about 20 ms each under TCG
 * (a full run attaches ~60 drives). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drives.h"

/* A disk's serial: virtio-blk's /sys/block/vdX/serial, or a SCSI disk's unit serial (VPD page 0x80:
 * a 4-byte header whose last two bytes are the length, then the serial). 0 when it has none. */
static int disk_serial(const char *disk, char *serial, size_t size)
{
    int scsi = strncmp(disk, "sd", 2) == 0;
    if (!scsi && strncmp(disk, "vd", 2) != 0) return 0;
    char path[512], raw[300];
    snprintf(path, sizeof path, scsi ? "/sys/block/%s/device/vpd_pg80" : "/sys/block/%s/serial", disk);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, raw, sizeof raw - 1);
    close(fd);
    if (n <= 0) return 0;
    const char *from = raw;
    size_t len = (size_t)n;
    if (scsi) {
        if (n < 4 || (unsigned char)raw[1] != 0x80) return 0;
        size_t want = ((size_t)(unsigned char)raw[2] << 8) | (unsigned char)raw[3];
        from = raw + 4;
        len = want < (size_t)n - 4 ? want : (size_t)n - 4;
    }
    if (len >= size) len = size - 1;
    memcpy(serial, from, len);
    serial[len] = 0;
    serial[strcspn(serial, "\n")] = 0;
    for (size_t k = strlen(serial); k > 0 && (serial[k - 1] == ' ' || serial[k - 1] == '\0'); k--) serial[k - 1] = 0;
    return serial[0] && !strchr(serial, '/');
}

/* One pass over /sys/block: link every named disk not linked yet. Returns how many are linked. */
static int link_pass(const char *dir)
{
    DIR *d = opendir("/sys/block");
    if (!d) {
        fprintf(stderr, "pcshare-agent: /sys/block: %s\n", strerror(errno));
        return -1;
    }
    int linked = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char serial[64], target[300], link[512], cur[300];
        if (!disk_serial(e->d_name, serial, sizeof serial)) continue;
        snprintf(target, sizeof target, "/dev/%s", e->d_name);
        snprintf(link, sizeof link, "%s/%s", dir, serial);
        ssize_t have = readlink(link, cur, sizeof cur - 1);
        if (have > 0 && (cur[have] = 0, strcmp(cur, target) == 0)) { linked++; continue; }
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

/* pcshare.drives=N on the kernel command line: how many named drives to wait for (0: none given). */
static long expected_drives(void)
{
    char buf[4096];
    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    const char *p = strstr(buf, "pcshare.drives=");
    return p ? strtol(p + strlen("pcshare.drives="), NULL, 10) : 0;
}

int link_drives(const char *dir)
{
    mkdir("/dev/disk", 0755);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "pcshare-agent: mkdir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    /* SCSI disks are probed asynchronously: wait (at most 20 s) for the count the host gave. */
    long want = expected_drives();
    int linked = link_pass(dir);
    for (int waited = 0; linked >= 0 && linked < want && waited < 20000; waited += 20) {
        usleep(20000);
        linked = link_pass(dir);
    }
    if (linked >= 0 && linked < want) fprintf(stderr, "pcshare-agent: %d of %ld drives named after 20 s\n", linked, want);
    return linked;
}
