#!/bin/busybox sh
# pcshare guest init: mount the pseudo filesystems, load the kernel modules in order, name the
# image drives by their serial, then hand over to the agent (or an interactive shell, or, in a
# reproducer bundle, the agent's replay of the recorded steps in /replay/steps.jsonl).
/bin/busybox mount -t proc proc /proc
if /bin/busybox grep -q 'pcshare.probe=1' /proc/cmdline; then
  echo "pcshare-init: probe ok"
  /bin/busybox poweroff -f
fi
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /tmp /run /mnt /root /sys/fs/cgroup
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
for m in $(cat /lib/modules/load.order 2>/dev/null); do
  insmod "/lib/modules/$m" || echo "pcshare-init: insmod $m failed"
done
/bin/pcshare-agent --link-drives /dev/disk/pcshare
read -r uptime _ < /proc/uptime
echo "pcshare-init: ready at $uptime s"
if grep -q 'pcshare.shell=1' /proc/cmdline; then
  echo "pcshare-init: interactive shell; image drives are under /dev/disk/pcshare; exit to power off"
  setsid cttyhack sh -l
  poweroff -f
fi
if grep -q 'pcshare.replay=1' /proc/cmdline; then
  /bin/pcshare-agent --replay /replay/steps.jsonl
  echo "pcshare-init: replay ended with status $?"
  # No sync (-n): after a kernel report in unmount, sync can block on the broken superblock forever.
  poweroff -n -f
fi
n=0
while [ $n -lt 3 ]; do
  /bin/pcshare-agent
  echo "pcshare-init: agent exited with status $?"
  n=$((n + 1))
done
poweroff -f
