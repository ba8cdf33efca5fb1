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
import fcntl
import os
import posixpath
import stat
import tempfile
import time

# Config files we parse and rewrite (sysctl.d files, systemd drop-ins) are small; anything larger
# is refused instead of being read into memory.
CONFIG_MAX_BYTES = 1024 * 1024
# Bytes that are not UTF-8 survive a read and a rewrite unchanged (as lone surrogates in between).
CONFIG_ENCODING = ("utf-8", "surrogateescape")
_SYMLINK_HOPS = 40

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

    def walk_dirs(self, host_path):
        """Yield ``host_path`` and every directory below it (host paths), parents first, in name order.
        Symlinks are not followed; a directory that vanishes or cannot be listed is skipped (a cgroup
        tree changes while it is walked)."""
        stack = [host_path.rstrip("/") or "/"]
        while stack:
            directory = stack.pop()
            yield directory
            try:
                with os.scandir(self.path(directory)) as entries:
                    names = sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
            except OSError:
                continue
            stack.extend(posixpath.join(directory, name) for name in reversed(names))

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

    def read_config(self, host_path, max_bytes=CONFIG_MAX_BYTES):
        """The text of a config file we may rewrite, or None when it does not exist.

        Symlinks are followed (a managed file may be a link, as Debian's 99-sysctl.conf is), but
        the file must be a regular file: a FIFO or a device is refused without blocking on it, and
        a file over ``max_bytes`` is refused instead of being read. Bytes that are not UTF-8 are
        kept as they are (surrogateescape), so a rewrite gives them back unchanged.
        """
        try:
            fd = os.open(self.path(self.target(host_path)), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as err:
            if err.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise explain_oserror(err, "reading", host_path)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise HostError("%s is not a regular file (%s); refusing to read or replace it"
                                % (host_path, file_kind(info.st_mode)), path=host_path)
            if info.st_size > max_bytes:
                raise HostError("%s is larger than %d bytes; refusing to read it" % (host_path, max_bytes),
                                path=host_path)
            data = _read_bounded(fd, max_bytes)
        except OSError as err:
            raise explain_oserror(err, "reading", host_path)
        finally:
            os.close(fd)
        if data is None:
            raise HostError("%s grew beyond %d bytes while being read; refusing it" % (host_path, max_bytes),
                            path=host_path)
        return data.decode(*CONFIG_ENCODING)

    def target(self, host_path):
        """The host path a managed file really lives at: its symlinks resolved, hop by hop.

        Writing goes to the target, so a link such as ``/etc/sysctl.d/99-sysctl.conf ->
        ../sysctl.conf`` stays a link and the file it names gets the new text. An absolute link
        target is taken below the root (fixture trees keep their links inside).
        """
        current = host_path
        for _hop in range(_SYMLINK_HOPS):
            try:
                link = os.readlink(self.path(current))
            except OSError as err:
                if err.errno in (errno.EINVAL, errno.ENOENT, errno.ENOTDIR):
                    return current  # not a symlink (EINVAL), or not there yet
                raise explain_oserror(err, "reading the link", current)
            if not link.startswith("/"):
                link = os.path.join(os.path.dirname(current), link)
            current = os.path.normpath(link)
        raise HostError("%s: more than %d levels of symbolic links" % (host_path, _SYMLINK_HOPS), path=host_path)

    def lock(self, host_path):
        """An exclusive fcntl.flock on a lock file beside ``host_path`` (a context manager).

        The lock file ``.<name>.lock`` is removed on release; a waiter that wakes on a lock file
        already removed takes the lock again on the new one, so two holders never overlap.
        """
        return _FileLock(self, host_path)

    def backup(self, host_path, suffix=None):
        """Copy a file next to itself under a name no other backup has; return the backup path.

        The name carries the time, and a counter when several backups are made in one second:
        a backup never overwrites an earlier one. Content, mode and times are kept.
        """
        stamp = suffix or time.strftime("%Y-%m-%d@%H:%M:%S")
        try:
            source = os.open(self.path(host_path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as err:
            raise explain_oserror(err, "backing up", host_path)
        try:
            info = os.fstat(source)
            if not stat.S_ISREG(info.st_mode):
                raise HostError("%s is not a regular file (%s); refusing to back it up"
                                % (host_path, file_kind(info.st_mode)), path=host_path)
            for attempt in range(1000):
                backup_path = "%s.%s%s~" % (host_path, stamp, "" if not attempt else ".%d" % attempt)
                try:
                    target = os.open(self.path(backup_path),
                                     os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                                     stat.S_IMODE(info.st_mode) & 0o600)
                except OSError as err:
                    if err.errno == errno.EEXIST:
                        continue
                    raise explain_oserror(err, "backing up", host_path)
                break
            else:
                raise HostError("backing up %s failed: 1000 backups made in the same second" % host_path,
                                path=host_path)
            try:
                while True:
                    chunk = os.read(source, 1 << 16)
                    if not chunk:
                        break
                    _write_all(target, chunk)
                os.fsync(target)
                os.fchmod(target, stat.S_IMODE(info.st_mode))
                try:
                    os.fchown(target, info.st_uid, info.st_gid)
                except OSError:
                    pass  # not root (unit tests): the copy stays ours
                os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
            except OSError as err:
                os.close(target)
                target = None
                _remove_quietly(self.path(backup_path))
                raise explain_oserror(err, "backing up", host_path)
            finally:
                if target is not None:
                    os.close(target)
        finally:
            os.close(source)
        return backup_path

    def replace_file(self, host_path, content, default_mode=0o644):
        """Atomically replace (or create) a config file with new text.

        A symlink is written through: the file it points to gets the new text and the link stays.
        The new file is written next to that target, flushed, given the old file's owner, mode and
        SELinux label, and renamed over it: a reader sees the old or the new file, never half of
        one, and a failure leaves the old file untouched. Text goes out with surrogateescape, so
        bytes read with read_config() come back unchanged. Returns the host path written.
        """
        target = self.target(host_path)
        real = self.path(target)
        directory = os.path.dirname(real)
        try:
            old = os.lstat(real)
        except OSError as err:
            if err.errno != errno.ENOENT:
                raise explain_oserror(err, "reading", target)
            old = None
        if old is not None and not stat.S_ISREG(old.st_mode):
            raise HostError("%s is not a regular file (%s); refusing to replace it" % (target, file_kind(old.st_mode)),
                            path=target)
        if old is None and not os.path.isdir(directory):
            # A minimal image may lack /etc/sysctl.d or a unit's drop-in directory.
            self.makedirs(os.path.dirname(target))
        data = content if isinstance(content, bytes) else content.encode(*CONFIG_ENCODING)
        try:
            fd, temp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(real), dir=directory)
        except OSError as err:
            raise explain_oserror(err, "writing into the directory of", target)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
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
            raise explain_oserror(err, "replacing", target)
        except BaseException:
            _remove_quietly(temp_path)
            raise
        return target


class _FileLock(object):
    """See HostFS.lock()."""

    def __init__(self, fs, host_path):
        self.fs = fs
        target = fs.target(host_path)
        self.host_path = "%s/.%s.lock" % (os.path.dirname(target), os.path.basename(target))
        self.fd = None

    def __enter__(self):
        real = self.fs.path(self.host_path)
        while True:
            try:
                fd = os.open(real, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
                             0o600)
            except OSError as err:
                raise explain_oserror(err, "creating the lock file", self.host_path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                held = os.fstat(fd)
                try:
                    now = os.lstat(real)
                except OSError:
                    now = None
            except BaseException:
                os.close(fd)
                raise
            if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
                self.fd = fd
                return self
            os.close(fd)  # the holder before us removed this lock file: lock the new one

    def __exit__(self, *exc):
        if self.fd is not None:
            _remove_quietly(self.fs.path(self.host_path))
            os.close(self.fd)
            self.fd = None
        return False


def atomic_write(path, text, mode=0o644):
    """Replace the file at ``path`` (a real path) with ``text``: a temp file in the same directory, fsync,
    rename. A symlink at ``path`` is replaced, not written through (state and output files of our own;
    config files a user may link go through HostFS.replace_file)."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise


def file_kind(mode):
    """'a FIFO', 'a directory'... for messages about files that are not regular files."""
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "not a regular file"


def _read_bounded(fd, max_bytes):
    """Up to ``max_bytes`` from ``fd``; None when there is more."""
    chunks, total = [], 0
    while True:
        chunk = os.read(fd, min(1 << 16, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            return None


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class TrustError(HostError):
    """A file read as root broke one of the trust rules (see read_trusted); the message names the
    rule and never quotes the file's content."""


def read_trusted(real_path, what, max_bytes, owners=None, shown=None):
    """Read a small file that a less privileged user may have written (pidfile, state file).

    The rules, each violation a TrustError naming it:

    * the file is opened without following a symlink (O_NOFOLLOW) and without blocking
      (O_NONBLOCK: a FIFO never hangs the module), and must be a regular file;
    * it holds at most ``max_bytes`` (a link to /dev/zero or a huge file is not read);
    * its directory cannot be written by anyone but root and the file's owner: not owned by
      another user, not world- or group-writable unless sticky (as /tmp and /run/lock are);
    * with ``owners``, the file belongs to one of those uids (callers that only learn the
      allowed owner from the content check ``info.st_uid`` themselves).

    Returns (bytes, os.stat_result), or (None, None) when the file does not exist.
    """
    shown = shown or real_path
    directory = os.path.dirname(os.path.abspath(real_path))
    try:
        fd = os.open(real_path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        if err.errno in (errno.ENOENT, errno.ENOTDIR):
            return None, None
        if err.errno == errno.ELOOP:
            raise TrustError("%s %s is a symbolic link; %ss are read without following links"
                             % (what, shown, what), path=shown, errno_value=err.errno)
        raise explain_oserror(err, "reading %s" % what, shown)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise TrustError("%s %s is not a regular file (%s); a %s must be a regular file"
                             % (what, shown, file_kind(info.st_mode), what), path=shown)
        if info.st_size > max_bytes:
            raise TrustError("%s %s is larger than %d bytes, the most a %s may hold; not read"
                             % (what, shown, max_bytes, what), path=shown)
        if owners is not None and info.st_uid not in owners:
            raise TrustError("%s %s belongs to uid %d; a %s must belong to %s"
                             % (what, shown, info.st_uid, what, " or ".join("uid %d" % o for o in sorted(owners))),
                             path=shown)
        check_directory_trust(directory, info.st_uid, what, shown)
        data = _read_bounded(fd, max_bytes)
    except OSError as err:
        raise explain_oserror(err, "reading %s" % what, shown)
    finally:
        os.close(fd)
    if data is None:
        raise TrustError("%s %s grew beyond %d bytes while being read; not used" % (what, shown, max_bytes), path=shown)
    return data, info


def check_directory_trust(directory, file_owner, what, shown):
    """Refuse a directory that someone other than root and ``file_owner`` may write into."""
    try:
        info = os.stat(directory)
    except OSError as err:
        raise explain_oserror(err, "checking the directory of %s" % what, shown)
    sticky = bool(info.st_mode & stat.S_ISVTX)
    if info.st_uid not in (0, file_owner):
        raise TrustError("%s %s is in %s, a directory owned by uid %d: a %s must be in a directory only root "
                         "or the file's owner can write" % (what, shown, directory, info.st_uid, what), path=shown)
    if info.st_mode & 0o002 and not sticky:
        raise TrustError("%s %s is in %s, which everyone can write (and not sticky): a %s must be in a "
                         "directory others cannot write" % (what, shown, directory, what), path=shown)
    if info.st_mode & 0o020 and info.st_gid != 0 and not sticky:
        raise TrustError("%s %s is in %s, which group %d can write: a %s must be in a directory others "
                         "cannot write" % (what, shown, directory, info.st_gid, what), path=shown)


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
