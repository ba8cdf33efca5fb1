# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host access layer: every read and write of kernel files and config files goes through here.

A HostFS is anchored at a root directory (``/`` on a real host). Unit tests anchor it at a
fixture tree so the same code paths run against v2 cgroups, other kernels or a process list
this machine cannot show. Nothing here imports Ansible: the modules map HostError to fail_json.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile

# What an errno means when it comes back from a kernel interface file (/proc/sys, /proc/PID,
# cgroup files). The general strerror text ("Invalid argument") does not tell an operator what
# to do; these do.
KERNEL_ERRNO_HINTS = {
    errno.EINVAL: "the kernel rejected the value (out of range or malformed for this file)",
    errno.EBUSY: "the kernel refused because the object is in use",
    errno.EACCES: "permission denied by the kernel (a capability such as CAP_SYS_RESOURCE or "
                  "CAP_SYS_ADMIN is missing, as it usually is inside containers)",
    errno.EPERM: "operation not permitted (missing privilege, or not running as root)",
    errno.ESRCH: "the process no longer exists",
    errno.EROFS: "the file system is mounted read-only (as /proc/sys and /sys/fs/cgroup are in "
                 "an unprivileged container)",
    errno.ENOENT: "the file does not exist on this kernel",
    errno.ENOSPC: "no space left, or a kernel limit was reached",
    errno.EINTR: "the write was interrupted by a signal",
}


class HostError(Exception):
    """A failure reading or writing the host, with a message fit for an operator."""

    def __init__(self, message, path=None, errno_value=None):
        super(HostError, self).__init__(message)
        self.path = path
        self.errno = errno_value


def explain_oserror(err, action, path):
    """Turn an OSError into a HostError whose message says what failed and why."""
    hint = KERNEL_ERRNO_HINTS.get(err.errno) or err.strerror or str(err)
    code = errno.errorcode.get(err.errno, str(err.errno))
    return HostError("%s %s failed: %s (%s)" % (action, path, hint, code), path=path, errno_value=err.errno)


class HostFS(object):
    """Read and write files of a host below a root directory."""

    def __init__(self, root="/"):
        self.root = os.path.abspath(root)

    def path(self, host_path):
        """Map an absolute host path (``/proc/sys/vm/x``) to the real path below the root."""
        if self.root == "/":
            return host_path
        return os.path.join(self.root, host_path.lstrip("/"))

    def exists(self, host_path):
        return os.path.exists(self.path(host_path))

    def isdir(self, host_path):
        return os.path.isdir(self.path(host_path))

    def listdir(self, host_path):
        try:
            return sorted(os.listdir(self.path(host_path)))
        except OSError as err:
            raise explain_oserror(err, "listing", host_path)

    def read(self, host_path):
        """Return the whole text of a file; HostError when it cannot be read."""
        try:
            with open(self.path(host_path), "rb") as handle:
                return handle.read().decode("utf-8", "replace")
        except OSError as err:
            raise explain_oserror(err, "reading", host_path)

    def read_optional(self, host_path):
        """Like read(), but None when the file does not exist."""
        try:
            return self.read(host_path)
        except HostError as err:
            if err.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise

    def write_value(self, host_path, value):
        """Write a value to a kernel interface file in a single write() at offset 0.

        Kernel files (sysctl with sysctl_writes_strict, cgroup files, /proc/PID/*) need the whole
        value in one write from the start of the file, and are never created here. O_TRUNC is
        ignored by procfs and sysfs; it keeps regular files in fixture trees faithful.
        """
        data = ("%s\n" % value).encode("utf-8")
        try:
            fd = os.open(self.path(host_path), os.O_WRONLY | os.O_TRUNC)
        except OSError as err:
            raise explain_oserror(err, "opening", host_path)
        try:
            os.write(fd, data)
        except OSError as err:
            raise explain_oserror(err, "writing %r to" % str(value), host_path)
        finally:
            os.close(fd)

    def makedirs(self, host_path):
        try:
            os.makedirs(self.path(host_path))
        except OSError as err:
            if err.errno != errno.EEXIST:
                raise explain_oserror(err, "creating", host_path)

    def rmdir(self, host_path):
        try:
            os.rmdir(self.path(host_path))
        except OSError as err:
            raise explain_oserror(err, "removing", host_path)

    def remove(self, host_path):
        try:
            os.unlink(self.path(host_path))
        except OSError as err:
            if err.errno != errno.ENOENT:
                raise explain_oserror(err, "removing", host_path)

    def realpath(self, host_path):
        """Resolve symlinks below the root and return the host path (with the root stripped)."""
        real = os.path.realpath(self.path(host_path))
        if self.root == "/":
            return real
        if real == self.root:
            return "/"
        if real.startswith(self.root + os.sep):
            return real[len(self.root):]
        # A symlink that leaves the fixture root: return something that cannot match a host path.
        return real

    def backup(self, host_path, suffix):
        """Copy a file next to itself with a suffix, keeping its metadata; return the backup path."""
        backup_path = "%s.%s~" % (host_path, suffix)
        try:
            shutil.copy2(self.path(host_path), self.path(backup_path))
        except OSError as err:
            raise explain_oserror(err, "backing up", host_path)
        return backup_path

    def replace_file(self, host_path, content, default_mode=0o644):
        """Atomically replace (or create) a config file with new text.

        The new file is written next to the old one, flushed, given the old file's owner, mode and
        SELinux label, and renamed over it: a reader sees the old or the new file, never half of
        one, and a failure leaves the old file untouched.
        """
        real = self.path(host_path)
        directory = os.path.dirname(real)
        try:
            old = os.stat(real)
        except OSError as err:
            if err.errno != errno.ENOENT:
                raise explain_oserror(err, "reading", host_path)
            old = None
        if old is None and not os.path.isdir(directory):
            # A minimal image may lack /etc/sysctl.d or a unit's drop-in directory.
            self.makedirs(os.path.dirname(host_path))
        try:
            fd, temp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(real), dir=directory)
        except OSError as err:
            raise explain_oserror(err, "writing into the directory of", host_path)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            if old is not None:
                os.chmod(temp_path, stat.S_IMODE(old.st_mode))
                os.chown(temp_path, old.st_uid, old.st_gid)
                _copy_selinux_label(real, temp_path)
            else:
                os.chmod(temp_path, default_mode)
            os.rename(temp_path, real)
        except OSError as err:
            _remove_quietly(temp_path)
            raise explain_oserror(err, "replacing", host_path)
        except BaseException:
            _remove_quietly(temp_path)
            raise


_SELINUX_XATTR = "security.selinux"


def _copy_selinux_label(source, target):
    """Keep the SELinux context of the replaced file; a no-op where xattrs or SELinux are absent."""
    getxattr = getattr(os, "getxattr", None)
    if getxattr is None:
        return
    try:
        label = getxattr(source, _SELINUX_XATTR)
    except OSError:
        return
    try:
        os.setxattr(target, _SELINUX_XATTR, label)
    except OSError as err:
        # Without SELinux enforcing, setting the label may be refused; the file is still correct.
        if err.errno not in (errno.ENOTSUP, errno.EPERM, errno.EACCES):
            raise


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass
