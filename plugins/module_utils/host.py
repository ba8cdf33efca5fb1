# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host layer: facts about the running Linux host that several module_utils need, each read one way.

* ``parse_mountinfo(text)`` -> [Mount]: /proc/self/mountinfo (proc(5)), with the kernel's octal escapes
  (``\\040`` space, ``\\011`` tab, ``\\012`` newline, ``\\134`` backslash) undone in every path field.
* ``page_size()``; ``v1_unlimited_bytes(page)`` and ``is_v1_unlimited(value, page)``: what a cgroup v1
  limit file reads when there is no limit (PAGE_COUNTER_MAX pages).
* ``format_bytes(n)``: bytes in the shortest exact K/M/G/T/P/E form (``536870912`` -> ``512M``), which
  systemd, the cgroup modules and parse_size() all read back to the same number.

Files are read through :class:`~hostfs.HostFS` by the callers; nothing here reads the host except
``page_size()``. Pure standard library (targets are minimal servers), Python 3.8+.
"""

from __future__ import annotations

import os
import re

from ansible_collections.oomkit.linux.plugins.module_utils.sizes import format_size

MOUNTINFO = "/proc/self/mountinfo"
LONG_MAX = 2 ** 63 - 1


# --- the mount table --------------------------------------------------------------------------------

class Mount(object):
    """One line of /proc/self/mountinfo."""

    def __init__(self, mount_id, parent_id, root, mount_point, fstype, source, super_options, options=None):
        self.mount_id = mount_id
        self.parent_id = parent_id
        self.root = root
        self.mount_point = mount_point
        self.fstype = fstype
        self.source = source
        self.super_options = super_options
        # the per-mount options (field 6: rw/ro, nosuid...), as opposed to the superblock's
        self.options = options or []

    @property
    def controllers(self):
        """v1 controllers bound to this hierarchy (named hierarchies like name=systemd excluded)."""
        ignored = ("rw", "ro", "none", "noprefix", "clone_children", "xattr", "cpuset_v2_mode", "favordynmods", "nsdelegate")
        return [o for o in self.super_options if o not in ignored and "=" not in o]

    @property
    def read_only(self):
        return "ro" in self.options or "ro" in self.super_options


_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


def unescape(text):
    """Undo the kernel's octal escapes of a mountinfo path field (show_mountinfo -> seq_path_root)."""
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), text)


def parse_mountinfo(text):
    """Parse mountinfo text (proc(5)): fields before the lone ``-`` vary, the three after it do not.

    Lines that do not have that shape are skipped. Fields are separated by single spaces; a space in a
    path is always escaped, so splitting on spaces is exact.
    """
    mounts = []
    for line in (text or "").splitlines():
        fields = line.split(" ")
        if len(fields) < 7 or "-" not in fields[6:]:
            continue
        sep = fields.index("-", 6)
        if len(fields) < sep + 4:
            continue
        mounts.append(Mount(
            mount_id=fields[0], parent_id=fields[1], root=unescape(fields[3]),
            mount_point=unescape(fields[4]), fstype=fields[sep + 1], source=unescape(fields[sep + 2]),
            super_options=fields[sep + 3].split(","), options=fields[5].split(","),
        ))
    return mounts


def read_mounts(fs):
    """The mount table of this process, through a HostFS; [] when it cannot be read."""
    return parse_mountinfo(fs.read_optional(MOUNTINFO) or "")


def cgroup_mounts(mounts):
    """``(v2 mount point or None, v1 memory mount point or None, v1 name=systemd mount point or None)``,
    the first of each in mount order."""
    v2 = v1_memory = v1_systemd = None
    for mount in mounts:
        if mount.fstype == "cgroup2" and v2 is None:
            v2 = mount.mount_point
        elif mount.fstype == "cgroup":
            if "memory" in mount.super_options and v1_memory is None:
                v1_memory = mount.mount_point
            if "name=systemd" in mount.super_options and v1_systemd is None:
                v1_systemd = mount.mount_point
    return v2, v1_memory, v1_systemd


# --- memory -------------------------------------------------------------------------------------------

def page_size():
    """The host's page size: v1 'unlimited' and the kernel's rounding of limits depend on it."""
    try:
        return os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 4096


def v1_unlimited_bytes(page=None):
    """What a v1 limit file reads when unlimited: PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB)."""
    page = page or page_size()
    return (LONG_MAX // page) * page


def is_v1_unlimited(value, page=None):
    """Whether a number read from a cgroup limit file means "no limit" (-1 is what some tools write)."""
    return value == -1 or value >= v1_unlimited_bytes(page)


def format_bytes(amount):
    """Bytes with the largest exact base-1024 suffix (536870912 -> 512M, 1000 -> 1000, 0 -> 0)."""
    return format_size(amount)
