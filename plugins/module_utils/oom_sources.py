# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where OOM reports come from, and what the host says about OOM right now.

- sources: files and globs (rotated, ``.gz``), the journal (``journalctl -o json`` streamed, with
  a cursor), the kernel ring buffer (``/dev/kmsg`` or the ``dmesg`` command); ``auto`` choice;
- incremental state (file identity + offset + head fingerprint, journald cursor, kmsg sequence);
- the host's OOM configuration snapshot and live-cgroup enrichment of events.

Every filesystem read goes through ``root`` (default ``/``) so tests can use fixture trees.
Standard library only; nothing here raises on bad log content.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import io
import json
import os
import re
import shutil
import socket
import stat as stat_mod
import subprocess
import time
import zlib

from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import (
    HostError, HostFS, atomic_write, check_directory_trust, read_trusted)
from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import (
    PARALLEL_MIN_BYTES,
    USERSPACE_KILLERS,
    CacheReader,
    EventCollector,
    GzipReader,
    OomParser,
    unwrap_line,
    is_strict_ancestor,
    parse_time_bound,
    scan_file,
    scan_stream,
)

STATE_VERSION = 1
FINGERPRINT_BYTES = 4096
DEFAULT_FILE_GLOBS = ('/var/log/messages*', '/var/log/kern.log*', '/var/log/syslog*')
# The default sources read regular files under these directories only: a symlink in them that
# leads elsewhere (to a root-only file, a device) is skipped. Explicit ``paths`` may be links.
LOG_DIRS = ('/var/log',)


def usable_cpus(root='/'):
    """CPUs this process may really use: its affinity mask, capped by the CPU quota of its cgroup
    and of the cgroup's ancestors (a container or service limited to one CPU gains nothing from a
    second process)."""
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.oomkit.linux.plugins.module_utils.cgroups import cpu_quota
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        quota = cpu_quota(HostFS(root))
    except HostError:
        quota = None
    if quota is not None:
        cpus = min(cpus, max(1, int(quota)))
    return max(1, cpus)


def runnable_others(root='/', samples=3):
    """Tasks runnable right now besides this one (the ``running/total`` field of
    /proc/loadavg, median of a few readings a millisecond apart).  The load averages lag by a
    minute and would count a job that has just ended; this is what the CPUs are doing now."""
    counts = []
    for k in range(samples):
        if k:
            time.sleep(0.001)
        fields = (_read(root, '/proc/loadavg') or '').split()
        try:
            counts.append(int(fields[3].split('/')[0]) - 1)
        except (IndexError, ValueError):
            return None
    counts.sort()
    return max(0, counts[len(counts) // 2])


def auto_workers(root='/'):
    """Processes for one large file: 2 when this process may use two CPUs and one of them is
    idle for the second process, else 1 (on a busy host a second process only adds work: CPU
    time, not cores, is then the limit)."""
    cpus = usable_cpus(root)
    if cpus < 2:
        return 1
    busy = runnable_others(root)
    if busy is None:
        return 1
    return 2 if (os.cpu_count() or cpus) - busy >= 2 else 1


# ioprio_set / ioprio_get system call numbers (no libc wrapper exists), by machine
_IOPRIO_SYSCALLS = {
    'x86_64': (251, 252), 'amd64': (251, 252), 'i386': (289, 290), 'i686': (289, 290),
    'aarch64': (30, 31), 'arm64': (30, 31), 'riscv64': (30, 31), 'loongarch64': (30, 31),
    'armv7l': (314, 315), 'armv6l': (314, 315), 'ppc64le': (273, 274), 'ppc64': (273, 274),
    's390x': (282, 283),
}
IOPRIO_WHO_PROCESS = 1
IOPRIO_CLASS_SHIFT = 13
IOPRIO_CLASS_IDLE = 3
LOW_NICE = 19
PRIORITIES = ('low', 'normal')


def _ioprio_calls():
    """(set, get) callables of the ioprio system calls through ctypes, or None."""
    try:
        import ctypes  # pylint: disable=import-outside-toplevel
        import platform  # pylint: disable=import-outside-toplevel
        nums = _IOPRIO_SYSCALLS.get(platform.machine())
        if nums is None:
            return None
        libc = ctypes.CDLL(None, use_errno=True)
        syscall = libc.syscall
        syscall.restype = ctypes.c_long
    except (ImportError, OSError, AttributeError):
        return None

    def set_(who, value):
        return syscall(ctypes.c_long(nums[0]), ctypes.c_long(IOPRIO_WHO_PROCESS), ctypes.c_long(who),
                       ctypes.c_long(value))

    def get_(who):
        return syscall(ctypes.c_long(nums[1]), ctypes.c_long(IOPRIO_WHO_PROCESS), ctypes.c_long(who))
    return set_, get_


class LowPriority(object):
    """While active, the calling thread (and the workers and commands it starts) runs at nice 19
    and in the idle I/O class: it gets the CPU and the disk only when nothing else wants them.

    Both are per-thread on Linux (``setpriority`` and ``ioprio_set`` of the thread id), so only the
    scan is slowed down, and children inherit them.  On exit the previous values come back where
    the kernel lets them (lowering the nice value again needs CAP_SYS_NICE; in the fact module the
    process ends anyway).  ``applied`` lists what was set (``nice``, ``ioprio``), ``messages`` why
    something was not.
    """

    def __init__(self, enabled=True):
        self.enabled = enabled
        self.applied = []
        self.messages = []
        self._tid = None
        self._nice = None
        self._ioprio = None
        self._calls = None

    def __enter__(self):
        if not self.enabled:
            return self
        try:
            import threading  # pylint: disable=import-outside-toplevel
            self._tid = threading.get_native_id()
        except (ImportError, AttributeError):
            self._tid = 0
        try:
            self._nice = os.getpriority(os.PRIO_PROCESS, self._tid)
            if self._nice < LOW_NICE:
                os.setpriority(os.PRIO_PROCESS, self._tid, LOW_NICE)
            self.applied.append('nice')
        except (AttributeError, OSError) as e:
            self._nice = None
            self.messages.append('nice: %s' % e)
        calls = _ioprio_calls()
        if calls is None:
            self.messages.append('ioprio: no ioprio_set system call known for this machine')
        else:
            old = calls[1](self._tid)
            if old >= 0 and calls[0](self._tid, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT) == 0:
                self._ioprio = old
                self._calls = calls
                self.applied.append('ioprio')
            else:
                import ctypes  # pylint: disable=import-outside-toplevel
                self.messages.append('ioprio: %s' % os.strerror(ctypes.get_errno()))
        return self

    def __exit__(self, *exc):
        if self._calls is not None:
            self._calls[0](self._tid, self._ioprio)
        if self._nice is not None:
            try:
                os.setpriority(os.PRIO_PROCESS, self._tid, self._nice)
            except OSError:
                pass
        return False


def current_priority():
    """(nice, ioprio) of the calling thread (ioprio None when it cannot be read): for tests."""
    try:
        import threading  # pylint: disable=import-outside-toplevel
        tid = threading.get_native_id()
    except (ImportError, AttributeError):
        tid = 0
    calls = _ioprio_calls()
    return os.getpriority(os.PRIO_PROCESS, tid), (calls[1](tid) if calls else None)


_RE_ROTATION_SUFFIX = re.compile(r'(?:\.\d{1,3}|-\d{8}(?:\d{2})?|\.old)?(?:\.gz)?$')


def rotation_family(path):
    """The live log a file belongs to: ``/var/log/messages`` for ``messages.1``,
    ``messages-20261120.gz`` and ``messages`` itself."""
    return _RE_ROTATION_SUFFIX.sub('', path, count=1) or path


def _path(root, p):
    """The real path of host path ``p`` below ``root`` (HostFS's mapping)."""
    return HostFS(root or '/').path(p)


def _read(root, p, default=None):
    """The text of a small kernel file of the host (HostFS), ``default`` when it cannot be read."""
    try:
        text = HostFS(root or '/').read_optional(p)
    except HostError:
        return default
    return default if text is None else text


def _int(text):
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------------------------
# state
# --------------------------------------------------------------------------------------------

# The state file holds one small entry per log file read; anything larger is not ours.
STATE_MAX_BYTES = 4 * 1024 * 1024


def load_state(path):
    """Read the incremental state file; a missing or damaged file is an empty state.

    The file decides which kills are "already read", so it is read as untrusted
    (hostfs.read_trusted): a regular file, no symlink, at most STATE_MAX_BYTES, owned by root or
    the user running the module, in a directory others cannot write. A violation is a TrustError
    naming the rule (the run fails rather than hide kills)."""
    if not path:
        return None
    data, _info = read_trusted(path, 'state file', STATE_MAX_BYTES, owners={0, os.geteuid()})
    if data is not None:
        try:
            st = json.loads(data.decode('utf-8'))
        except ValueError:
            st = None
        if isinstance(st, dict) and st.get('version') == STATE_VERSION and isinstance(st.get('files', {}), dict):
            st.setdefault('files', {})
            return st
    return {'version': STATE_VERSION, 'files': {}}


def save_state(path, state):
    """Write the state atomically (temp file + rename in the same directory), in a directory
    others cannot write (the same rule as load_state)."""
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        os.makedirs(d, mode=0o700)
    check_directory_trust(d, os.geteuid(), 'state file', path)
    atomic_write(path, json.dumps(state, sort_keys=True), 0o600)


def _head(path, n):
    try:
        if path.endswith('.gz'):
            import gzip  # pylint: disable=import-outside-toplevel
            with gzip.open(path, 'rb') as f:
                return f.read(n)
        with open(path, 'rb') as f:
            return f.read(n)
    except (IOError, OSError, EOFError, ValueError):
        return b''


def _pread(fd, n, offset):
    """``os.pread`` that leaves the page cache as it found it (see :class:`CacheReader`)."""
    buf = bytearray(n)
    reader = CacheReader(fd, offset, offset + n)
    try:
        got = 0
        view = memoryview(buf)
        while got < n:
            k = reader.readinto(view[got:])
            if not k:
                break
            got += k
    finally:
        reader.close()
    return bytes(buf[:got])


def _head_fd(fd, gz, n):
    """The first ``n`` (uncompressed) bytes of an open file, without moving its offset."""
    try:
        if gz:
            reader = CacheReader(fd, 0)
            try:
                g = GzipReader(reader, block=65536)
                buf = bytearray(n)
                got = g.readinto(buf)
            finally:
                reader.close()
            return bytes(buf[:got])
        return _pread(fd, n, 0)
    except (IOError, OSError, EOFError, ValueError, zlib.error):
        return b''


def _complete_end(fd, start, end):
    """The offset just after the last newline in [start, end) of an open file: where the
    complete lines stop.  ``start`` when the range holds no newline at all."""
    pos = end
    while pos > start:
        size = min(1 << 16, pos - start)
        chunk = _pread(fd, size, pos - size)
        if not chunk:
            return start
        i = chunk.rfind(b'\n')
        if i >= 0:
            return pos - size + i + 1
        pos -= size
    return start


def _safe_error(e):
    """An error about a log file, without anything read from it: gzip's "Not a gzipped file
    (b'..')" and decoder errors quote bytes of the file, so only the kind of error is kept."""
    if isinstance(e, EOFError):
        return 'EOFError: the compressed file ends early'
    name = type(e).__name__
    if name == 'BadGzipFile' or (isinstance(e, OSError) and e.errno is None):
        return '%s: not a valid gzip file' % name
    if isinstance(e, OSError):
        return '%s: %s' % (errno.errorcode.get(e.errno, e.errno), os.strerror(e.errno))
    if name == 'error' and type(e).__module__ == 'zlib':
        return 'zlib.error: the compressed data is corrupt'
    return '%s: the file could not be read' % name


def _file_kind(mode):
    # pylint: disable-next=import-outside-toplevel
    from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import file_kind
    return file_kind(mode)


def _fp(data):
    return hashlib.sha1(data).hexdigest()


# --------------------------------------------------------------------------------------------
# reading sources
# --------------------------------------------------------------------------------------------

class _TailKeeper(object):
    """readinto() pass-through that keeps the last bytes (for the journal's last cursor)."""

    def __init__(self, f, keep=65536):
        self.f = f
        self.keep = keep
        self.tail = b''
        self.head = None

    @property
    def first_epoch(self):
        """Time of the first record read (``__REALTIME_TIMESTAMP``), None when unknown."""
        if not self.head:
            return None
        try:
            return int(json.loads(self.head.split(b'\n', 1)[0].decode('utf-8', 'replace'))['__REALTIME_TIMESTAMP']) / 1e6
        except (ValueError, KeyError, TypeError):
            return None

    def readinto(self, b):
        n = self.f.readinto(b)
        if n and self.head is None:
            self.head = bytes(b[:min(n, 65536)])
        if n:
            chunk = bytes(b[max(0, n - self.keep):n])
            self.tail = (self.tail + chunk)[-self.keep:]
        return n


def _scan_into(stream, parser, st):
    """Scan a command's output into ``parser``; bad content makes the source partial, never fatal."""
    try:
        nbytes, nlines, _end = scan_stream(stream, parser, stats=st)
        st['bytes'] = nbytes
        st['lines'] = nlines
    except Exception as e:  # pylint: disable=broad-except
        st['status'] = 'partial'
        st['errors'] += 1
        st['messages'].append('%s: %s' % (type(e).__name__, e))
    parser.close()


# The journal fields the events need (journalctl always adds __CURSOR, __REALTIME_TIMESTAMP,
# __MONOTONIC_TIMESTAMP and _BOOT_ID): a kernel record has some twenty fields, and formatting and
# scanning the ones nobody reads is most of the cost of ``-o json``.
JOURNAL_FIELDS = '--output-fields=MESSAGE,_TRANSPORT,SYSLOG_IDENTIFIER,_HOSTNAME,_SOURCE_MONOTONIC_TIMESTAMP'


def _run_journalctl(cmd, parser, st):
    """Run ``cmd`` and scan its output into ``parser``; (rc, stderr text, tail keeper)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # pylint: disable=consider-using-with
    tail = _TailKeeper(proc.stdout)
    _scan_into(tail, parser, st)
    err = proc.stderr.read().decode('utf-8', 'replace').strip()
    rc = proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    return rc, err, tail


def _no_output_fields(rc, err, st):
    """Did journalctl refuse ``--output-fields`` (systemd before 236) before printing anything?"""
    if rc == 0 or st['bytes'] or 'output-fields' not in err:
        return False
    st['status'] = 'ok'
    st['messages'] = [m for m in st['messages'] if 'output-fields' not in m]
    return True


class SourceReader(object):
    """Reads the requested sources into one :class:`EventCollector`."""

    def __init__(self, root='/', include_tasks=False, since=None, until=None, max_events=None,
                 state=None, workers=None, block_size=None, now=None, journalctl=None, dmesg=None):
        self.root = root or '/'
        self.include_tasks = include_tasks
        self.now = time.time() if now is None else now
        self.since = parse_time_bound(since, self.now)
        self.until = parse_time_bound(until, self.now)
        self.collector = EventCollector(since=self.since, until=self.until, max_events=max_events)
        self.state = state
        self.new_state = {'version': STATE_VERSION, 'files': {}} if state is not None else None
        # None: chosen by auto_workers() when a file large enough to split is met
        self.workers = None if workers is None else max(1, int(workers))
        self.block_size = block_size
        self.stats = []
        self.warnings = []
        self.skipped_files = {}
        self.journalctl = journalctl
        self.dmesg = dmesg
        self.boot_epoch = None
        up = _read(self.root, '/proc/uptime')
        if up and self.root == '/':
            try:
                self.boot_epoch = self.now - float(up.split()[0])
            except (ValueError, IndexError):
                self.boot_epoch = None

    # ---- helpers ----------------------------------------------------------------------------

    def _parser(self, source, stats, emit=None, boot_epoch=None, ref_epoch=None):
        return OomParser(source, emit or self.collector.add, include_tasks=self.include_tasks,
                         ref_epoch=ref_epoch, boot_epoch=boot_epoch, stats=stats,
                         emit_userspace=self.collector.add_userspace)

    def _stat(self, name, kind, path=None):
        st = {'name': name, 'type': kind, 'path': path, 'status': 'ok', 'bytes': 0, 'lines': 0,
              'skipped': 0, 'errors': 0, 'events': 0, 'messages': [], 'start_offset': 0,
              'incremental': False, 'workers': 1}
        self.stats.append(st)
        return st

    def _counting_emit(self, st):
        add = self.collector.add
        by_name = dict((other['name'], other) for other in self.stats)

        def emit(ev):
            # an event carried over from the previous file of a rotated log counts where it began
            by_name.get(ev['source'], st)['events'] += 1
            add(ev)
        return emit

    # ---- files ------------------------------------------------------------------------------

    def _inside_log_dirs(self, path):
        real = os.path.realpath(path)
        return any(real == _path(self.root, d) or real.startswith(_path(self.root, d).rstrip('/') + '/')
                   for d in LOG_DIRS)

    def expand(self, patterns, explicit=True):
        """Globs -> existing regular files (under root), oldest first, each identity once.

        Files that are not regular (FIFOs, devices, sockets) are never opened: they are listed in
        ``self.skipped_files`` with the reason. Without ``explicit`` (the default sources), a
        symlink that leads out of the log directories is skipped too."""
        seen = set()
        found = []
        missing = []
        for pat in patterns:
            full = _path(self.root, pat)
            matches = glob.glob(full) if glob.has_magic(full) else ([full] if os.path.lexists(full) else [])
            if not matches:
                missing.append(pat)
            for m in matches:
                try:
                    st = os.lstat(m)
                    if stat_mod.S_ISLNK(st.st_mode):
                        if not explicit and not self._inside_log_dirs(m):
                            self._skip_file(m, 'a symlink leading out of %s: the default sources do not follow it'
                                            % ', '.join(LOG_DIRS))
                            continue
                        st = os.stat(m)
                except OSError as e:
                    found.append((0, m, None, e))
                    continue
                if stat_mod.S_ISDIR(st.st_mode):
                    continue
                if not stat_mod.S_ISREG(st.st_mode):
                    self._skip_file(m, 'not a regular file (%s): skipped, never opened' % _file_kind(st.st_mode))
                    continue
                ident = (st.st_dev, st.st_ino)
                if ident in seen:
                    continue
                seen.add(ident)
                found.append((st.st_mtime, m, st, None))
        found.sort(key=lambda x: (x[0], x[1]))
        return found, missing

    def _shown(self, path):
        return path if self.root == '/' else '/' + os.path.relpath(path, self.root)

    def _skip_file(self, path, reason):
        shown = self._shown(path)
        if shown not in self.skipped_files:
            self.skipped_files[shown] = reason

    def read_files(self, patterns, explicit=True):
        found, missing = self.expand(patterns, explicit)
        for shown, reason in sorted(self.skipped_files.items()):
            st = self._stat(shown, 'file', shown)
            st['status'] = 'skipped'
            st['messages'].append(reason)
            self.warnings.append('%s: %s' % (shown, reason))
        self.skipped_files = {}
        for pat in missing:
            st = self._stat(pat, 'file', pat)
            st['status'] = 'missing'
        # files of one rotated log, oldest first: a report that rotation cut in two goes on in the
        # next file of its log instead of giving two partial events
        later = {}
        for _mtime, path, _fst, err in found:
            if err is None:
                family = rotation_family(path)
                later[family] = later.get(family, 0) + 1
        carried = {}
        for _mtime, path, fst, err in found:
            shown = self._shown(path)
            st = self._stat(shown, 'file', shown)
            if err is not None:
                st['status'] = 'unreadable'
                st['errors'] += 1
                st['messages'].append(_safe_error(err))
                continue
            family = rotation_family(path)
            later[family] -= 1
            left_open = self._read_one_file(path, shown, fst, st, carried.pop(family, None), later[family] > 0)
            if left_open:
                carried[family] = left_open

    def _open_checked(self, path, fst, st):
        """Open a file expand() accepted, without blocking, and check it is still that file."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0))
        except OSError as e:
            st['status'] = 'unreadable'
            st['errors'] += 1
            st['messages'].append(_safe_error(e))
            return None
        info = os.fstat(fd)
        if not stat_mod.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) != (fst.st_dev, fst.st_ino):
            os.close(fd)
            st['status'] = 'skipped'
            st['messages'].append('replaced while being opened (now %s): skipped' % _file_kind(info.st_mode))
            self.warnings.append('%s: replaced while being opened: skipped' % st['name'])
            return None
        return fd

    def _resume_point(self, path, fst, fd=None):
        """Offset and line to start at, from the state (same identity, or a rotated copy)."""
        if self.state is None:
            return 0, 0, None
        files = self.state.get('files') or {}
        key = '%d:%d' % (fst.st_dev, fst.st_ino)
        ent = files.get(key)
        gz = path.endswith('.gz')
        if ent and (gz or fst.st_size >= ent.get('offset', 0)):
            if _fp(_head_fd(fd, gz, ent.get('fp_len', 0))) == ent.get('fp'):
                return ent.get('offset', 0), ent.get('lines', 0), 'same file'
            return 0, 0, 'replaced (content changed)'
        if ent:
            return 0, 0, 'truncated'
        # rotated / compressed copy of a file read before under another identity
        for other_key, other in files.items():
            if other_key == key or not other.get('fp_len'):
                continue
            if not gz and fst.st_size < other.get('offset', 0):
                continue
            if _fp(_head_fd(fd, gz, other['fp_len'])) == other.get('fp'):
                return other.get('offset', 0), other.get('lines', 0), 'rotated copy of %s' % other.get('path')
        return 0, 0, None

    def _read_one_file(self, path, shown, fst, st, carried=None, more_follow=False):
        """Read one file.  ``carried``: events left open at the end of the previous file of the same
        rotated log; with ``more_follow``, the events open at the end of this one are returned
        to be carried on, else they are emitted."""
        fd = self._open_checked(path, fst, st)
        if fd is None:
            return []
        try:
            return self._read_open_file(fd, path, shown, fst, st, carried, more_follow)
        finally:
            os.close(fd)

    def _read_open_file(self, fd, path, shown, fst, st, carried, more_follow):
        gz = path.endswith('.gz')
        start, start_line, why = self._resume_point(path, fst, fd)
        st['start_offset'] = start
        st['incremental'] = bool(start)
        if why:
            st['messages'].append('state: %s' % why)
        emit = self._counting_emit(st)
        ref = fst.st_mtime
        parser = self._parser(shown, st, emit=emit, ref_epoch=ref)
        if carried:
            parser.adopt(carried)
            st['messages'].append('continued %d report(s) open at the end of the previous file' % len(carried))
        size = os.fstat(fd).st_size
        # complete lines only: a line still being written at the end is left for the next run
        complete = size if gz else _complete_end(fd, start, size)
        factory = None
        workers = self.workers
        if workers is None:
            splittable = complete - start >= PARALLEL_MIN_BYTES and not gz
            workers = auto_workers(self.root) if splittable else 1
        if complete < size:
            workers = 1
            st['messages'].append('the last line is incomplete (still being written): it is read next time')
        st['workers'] = workers
        if workers > 1:
            include_tasks = self.include_tasks

            def factory(emit_, stats_):
                return OomParser(shown, emit_, include_tasks=include_tasks, ref_epoch=ref, stats=stats_)
        kwargs = {}
        if self.block_size:
            kwargs['block_size'] = self.block_size
        end = start
        try:
            if gz:
                nbytes, nlines, end = self._scan_gz(fd, parser, start, start_line, st, kwargs)
            elif complete < size:
                # the complete lines only
                bounded = CacheReader(fd, start, complete)
                try:
                    nbytes, nlines, _end = scan_stream(bounded, parser, start_line,
                                                       stats=st, offset=start, **kwargs)
                finally:
                    bounded.close()
                end = start + nbytes
            else:
                # the open file itself, by its /proc/self/fd name (forked workers inherit the fd):
                # whatever is renamed over the path meanwhile is not what gets read
                nbytes, nlines, end = scan_file('/proc/self/fd/%d' % fd, parser, start_offset=start,
                                                start_line=start_line, workers=workers, parser_factory=factory,
                                                stats=st, keep_regions=self.collector.region_keeper, **kwargs)
                grown = _complete_end(fd, start, end)
                if grown < end:
                    # a partial line appended while reading: counted as a line by the scan
                    end = grown
                    nlines = max(0, nlines - 1)
            st['bytes'] = nbytes
            st['lines'] = nlines
        except (IOError, OSError, EOFError, ValueError) as e:
            st['status'] = 'unreadable' if not st['bytes'] else 'partial'
            st['errors'] += 1
            st['messages'].append(_safe_error(e))
            end = start if gz else _complete_end(fd, start, start + st['bytes'])
        except Exception as e:  # pylint: disable=broad-except
            st['status'] = 'partial'
            st['errors'] += 1
            st['messages'].append(_safe_error(e))
            end = start if gz else _complete_end(fd, start, start + st['bytes'])
        left_open = parser.hand_over(start_line + st['lines']) if more_follow and st['status'] == 'ok' else []
        parser.close()
        if self.new_state is not None and st['status'] in ('ok', 'partial'):
            head = _head_fd(fd, gz, FINGERPRINT_BYTES)
            self.new_state['files']['%d:%d' % (fst.st_dev, fst.st_ino)] = {
                'path': shown, 'offset': end, 'lines': start_line + st['lines'], 'fp': _fp(head),
                'fp_len': len(head), 'size': fst.st_size, 'checked': int(self.now)}
        return left_open

    @staticmethod
    def _scan_gz(fd, parser, start, start_line, st, kwargs):
        raw = CacheReader(fd, 0)
        try:
            g = GzipReader(raw)
            if start:
                g.skip(start)
            nbytes, nlines, _end = scan_stream(g, parser, start_line, stats=st, offset=start, **kwargs)
        finally:
            raw.close()
        return nbytes, nlines, start + nbytes

    # ---- journal ----------------------------------------------------------------------------

    def journal_available(self):
        return bool(self._journalctl()) and os.path.isdir(_path(self.root, '/run/systemd/journal'))

    def _journalctl(self):
        if self.journalctl:
            return self.journalctl
        if self.root != '/':
            return None
        return shutil.which('journalctl')

    def read_journal(self):
        st = self._stat('journal', 'journal')
        exe = self._journalctl()
        if not exe:
            st['status'] = 'unavailable'
            st['messages'].append('journalctl not found')
            return
        cmd = [exe, '_TRANSPORT=kernel', '-o', 'json', JOURNAL_FIELDS, '--no-pager', '-q']
        cursor = (self.state or {}).get('journal', {}).get('cursor') if self.state else None
        if cursor:
            cmd.append('--after-cursor=%s' % cursor)
            st['incremental'] = True
        if self.since is not None:
            cmd.append('--since=@%d' % int(self.since))
        if self.until is not None:
            cmd.append('--until=@%d' % int(self.until + 1))
        emit = self._counting_emit(st)
        parser = self._parser('journal', st, emit=emit)
        try:
            rc, err, tail = _run_journalctl(cmd, parser, st)
            if _no_output_fields(rc, err, st):
                # systemd before 236: every field, as before
                parser = self._parser('journal', st, emit=emit)
                rc, err, tail = _run_journalctl([a for a in cmd if a != JOURNAL_FIELDS], parser, st)
        except OSError as e:
            st['status'] = 'unavailable'
            st['errors'] += 1
            st['messages'].append(str(e))
            return
        if rc != 0 and not st['lines']:
            st['status'] = 'failed'
            st['errors'] += 1
            st['messages'].append('journalctl rc=%d: %s' % (rc, err[:500]))
        elif err:
            st['messages'].append(err[:500])
        last = None
        for line in reversed(tail.tail.split(b'\n')):
            line = line.strip()
            if line.startswith(b'{'):
                try:
                    last = json.loads(line.decode('utf-8', 'replace')).get('__CURSOR')
                except ValueError:
                    last = None
                break
        new_cursor = last or parser.last_cursor or cursor
        st['cursor'] = new_cursor
        if self.new_state is not None and new_cursor:
            self.new_state['journal'] = {'cursor': new_cursor}
        if st['status'] == 'ok':
            # journald's _TRANSPORT=kernel records: the kernel's own record of this host (from
            # the first record the query returned; an incremental run covers from its cursor)
            self.collector.mark_kernel_source('journal', tail.first_epoch if not cursor else self.since)
        self.read_journal_userspace(exe, st)

    def read_journal_userspace(self, exe, st):
        """The userspace OOM killers' messages in the journal (their own identifiers, any
        transport): kills go to ``userspace_events``, never to the kernel events."""
        cmd = [exe, '-o', 'json', JOURNAL_FIELDS, '--no-pager', '-q'] + ['SYSLOG_IDENTIFIER=%s' % k for k in USERSPACE_KILLERS]
        cursor = (self.state or {}).get('journal_userspace', {}).get('cursor') if self.state else None
        if cursor:
            cmd.append('--after-cursor=%s' % cursor)
        if self.since is not None:
            cmd.append('--since=@%d' % int(self.since))
        if self.until is not None:
            cmd.append('--until=@%d' % int(self.until + 1))
        parser = self._parser('journal', {'skipped': 0, 'errors': 0}, emit=lambda ev: None)
        scratch = {'bytes': 0, 'lines': 0, 'skipped': 0, 'errors': 0, 'status': 'ok', 'messages': []}
        try:
            rc, err, _tail = _run_journalctl(cmd, parser, scratch)
            if _no_output_fields(rc, err, scratch):
                parser = self._parser('journal', {'skipped': 0, 'errors': 0}, emit=lambda ev: None)
                _run_journalctl([a for a in cmd if a != JOURNAL_FIELDS], parser, scratch)
        except OSError as e:
            st['messages'].append('userspace killers: %s' % e)
            return
        if self.new_state is not None and (parser.last_cursor or cursor):
            self.new_state['journal_userspace'] = {'cursor': parser.last_cursor or cursor}

    # ---- kernel ring buffer -----------------------------------------------------------------

    def read_dmesg(self):
        st = self._stat('dmesg', 'dmesg')
        boot_id = (_read(self.root, '/proc/sys/kernel/random/boot_id') or '').strip() or None
        prev = (self.state or {}).get('dmesg') if self.state else None
        if prev and prev.get('boot_id') != boot_id:
            prev = None
        data = None
        last_seq = None
        kmsg = _path(self.root, '/dev/kmsg')
        if self.dmesg is None and self.root == '/' and os.path.exists(kmsg):
            try:
                data, last_seq, skipped_old = self._read_kmsg(kmsg, prev.get('seq') if prev else None)
                st['via'] = '/dev/kmsg'
                if prev and prev.get('seq') is not None:
                    st['incremental'] = True
                    st['messages'].append('skipped %d records already read' % skipped_old)
            except (IOError, OSError) as e:
                st['messages'].append('/dev/kmsg: %s' % e)
                data = None
        min_uptime = None
        if data is None:
            exe = shutil.which('dmesg') if self.root == '/' else None
            if self.dmesg:
                cmds = [[self.dmesg]]
            else:
                cmds = [[exe, '-r'], [exe]] if exe else []
            for cmd in cmds:
                try:
                    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
                except OSError as e:
                    st['messages'].append('%s: %s' % (cmd[0], e))
                    continue
                if proc.returncode == 0:
                    data = proc.stdout
                    st['via'] = ' '.join(cmd)
                    break
                st['messages'].append('%s rc=%d: %s' % (' '.join(cmd), proc.returncode,
                                                        proc.stderr.decode('utf-8', 'replace').strip()[:300]))
            if prev and prev.get('uptime') is not None:
                min_uptime = prev['uptime']
                st['incremental'] = True
        if data is None:
            st['status'] = 'unavailable'
            st['errors'] += 1
            return
        count_emit = self._counting_emit(st)
        max_up = [prev.get('uptime') if prev else None]

        def emit(ev):
            up = ev.get('uptime')
            if up is not None and (max_up[0] is None or up > max_up[0]):
                max_up[0] = up
            if min_uptime is not None and up is not None and up <= min_uptime:
                return
            count_emit(ev)
        parser = self._parser('dmesg', st, emit=emit, boot_epoch=self.boot_epoch)
        _scan_into(io.BytesIO(data), parser, st)
        # the ring buffer is the kernel's own record since boot (or since it wrapped: the first
        # record's time); lines written to /dev/kmsg from userspace carry a user facility
        self.collector.mark_kernel_source('dmesg', self._first_record_epoch(data))
        if self.new_state is not None:
            self.new_state['dmesg'] = {'boot_id': boot_id, 'seq': last_seq if last_seq is not None else
                                       (prev or {}).get('seq'), 'uptime': max_up[0]}

    def _first_record_epoch(self, data):
        """Wall-clock time of the first record of a ring buffer dump, None when unknown."""
        if self.boot_epoch is None:
            return None
        head = data[:4096].split(b'\n', 1)[0].decode('utf-8', 'replace')
        w = unwrap_line(head)
        return self.boot_epoch + (w.uptime or 0.0)

    @staticmethod
    def _read_kmsg(path, after_seq):
        """All records of /dev/kmsg (non-blocking), as text lines; (bytes, last_seq, skipped)."""
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        out = []
        last_seq = None
        skipped = 0
        try:
            while True:
                try:
                    rec = os.read(fd, 16384)
                except OSError as e:
                    if e.errno == errno.EAGAIN:
                        break
                    if e.errno == errno.EPIPE:
                        continue  # overwritten records: the next read resumes
                    raise
                if not rec:
                    break
                first = rec.split(b'\n', 1)[0]
                try:
                    seq = int(first.split(b',', 2)[1])
                except (IndexError, ValueError):
                    seq = None
                if seq is not None:
                    last_seq = seq
                    if after_seq is not None and seq <= after_seq:
                        skipped += 1
                        continue
                out.append(first + b'\n')
        finally:
            os.close(fd)
        return b''.join(out), last_seq, skipped

    # ---- driver -----------------------------------------------------------------------------

    def run(self, sources=('auto',), paths=None):
        sources = list(sources or ['auto'])
        if 'auto' in sources:
            sources = [s for s in sources if s != 'auto']
            if paths:
                sources.append('files')
            elif self.journal_available():
                sources.append('journal')
            else:
                found, _missing = self.expand(DEFAULT_FILE_GLOBS, explicit=False)
                if found:
                    sources.append('files')
                sources.append('dmesg')
        sources = [s for i, s in enumerate(sources) if s not in sources[:i]]
        for src in sources:
            if src == 'files':
                self.read_files(paths or [p for p in DEFAULT_FILE_GLOBS if self.expand([p], explicit=False)[0]] or
                                list(DEFAULT_FILE_GLOBS), explicit=bool(paths))
            elif src == 'journal':
                self.read_journal()
            elif src == 'dmesg':
                self.read_dmesg()
        return sources


def gather(sources=('auto',), paths=None, since=None, until=None, max_events=None, include_tasks=False,
           state_file=None, update_state=True, enrich=True, config=True, root='/', workers=1,
           journalctl=None, dmesg=None, now=None, priority='low'):
    """Everything the fact module returns, as one dict (plus the sources actually used).

    ``workers``: processes for one large file (None: :func:`auto_workers`).
    ``priority``: ``low`` reads the sources at nice 19 and idle I/O priority (:class:`LowPriority`),
    ``normal`` as the caller runs."""
    with LowPriority(priority == 'low') as prio:
        result = _gather(sources, paths, since, until, max_events, include_tasks, state_file, update_state,
                         enrich, config, root, workers, journalctl, dmesg, now)
    result['priority'] = {'requested': priority, 'applied': prio.applied, 'messages': prio.messages}
    return result


def _gather(sources, paths, since, until, max_events, include_tasks, state_file, update_state, enrich, config,
            root, workers, journalctl, dmesg, now):
    state = load_state(state_file) if state_file else None
    reader = SourceReader(root=root, include_tasks=include_tasks, since=since, until=until,
                          max_events=max_events, state=state, workers=workers, now=now,
                          journalctl=journalctl, dmesg=dmesg)
    cfg = None
    if config or enrich:
        # the live host's side (oom_host: configuration, live cgroup tree) only when asked for: parsing
        # logs alone (the hot path, and bench/) never imports the host code
        # pylint: disable-next=import-outside-toplevel
        from ansible_collections.oomkit.linux.plugins.module_utils.oom_host import host_config, make_refiner
        cfg = host_config(root) if config else None
        if enrich:
            reader.collector.refine = make_refiner(root, cfg)
    if root == '/':
        reader.collector.local_host = socket.gethostname()
    used = reader.run(sources, paths)
    events = reader.collector.events()
    summary = reader.collector.summary()
    userspace_events = reader.collector.userspace_events()
    state_written = False
    if state_file and update_state and reader.new_state is not None:
        save_state(state_file, reader.new_state)
        state_written = True
    return {
        'events': events,
        'userspace_events': userspace_events,
        'summary': summary,
        'config': cfg,
        'sources': reader.stats,
        'sources_used': used,
        'state_written': state_written,
        'warnings': reader.warnings,
    }


__all__ = ['gather', 'load_state', 'save_state', 'SourceReader', 'is_strict_ancestor']
