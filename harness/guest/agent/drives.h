#ifndef PCSHARE_DRIVES_H
#define PCSHARE_DRIVES_H
/* Symlink each virtio-blk disk's serial under dir; returns how many were linked, -1 on error. */
int link_drives(const char *dir);
#endif
