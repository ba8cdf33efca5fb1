# shellcheck shell=bash
# What the container's file system and systemd look like, minus what changes on its own (logs,
# journal, systemd's runtime state, /tmp, Ansible's own remote temporary directory) and the snapshot
# file itself. Used by prepare and verify.
set -euo pipefail
find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp -o -path /var/tmp \
    -o -path /var/log -o -path /var/lib/systemd -o -path /var/cache -o -path /root/oomkit-snapshot.before \
    -o -path /root/.ansible \) -prune \
    -o -printf '%p %y %m %U:%G\n' | LC_ALL=C sort
find /etc /usr/lib/systemd -xdev -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum
systemctl list-unit-files --no-legend --no-pager | LC_ALL=C sort
