# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Streaming parser for Linux kernel OOM-killer reports.

Pure Python standard library (3.8+), no Ansible imports: the fact module, the unit tests and
``bench/`` import it directly.

Pipeline, per source:

1. Scan: 1 MiB blocks are searched for every line that can open an event (``_hits``): kill
   lines by a memchr of ``K``, the other shapes by their literal (``OPEN_NEEDLES``) with libc's
   ``strstr`` through ``ctypes``.  Only the lines around a hit are decoded.
2. Window: an anchor line opens an event "window"; the following lines are fed to the assembler
   until the event closes (kill line, next report, or a budget of unrelated lines).
3. Unwrap: one function strips the log wrapper of each line (dmesg, syslog, RFC 3339/5424,
   EulerOS pipe format, journald JSON, /dev/kmsg, ...) and tells whether the program is the kernel.
4. Assemble + classify: per-line patterns fill the event; when it is complete the cause is derived
   with its evidence.
5. Collect: de-duplication across sources, since/until, newest ``max_events`` kept, summary of all.
"""

from __future__ import annotations

import calendar
import datetime
import heapq
import itertools
import json
import os
import pickle
import re
import tempfile
import zlib
import time

__all__ = [
    'EVENT_FIELDS', 'CAUSES', 'CAUSE_TABLE', 'CAUSE_TEXT', 'USERSPACE_KILLERS', 'USERSPACE_FIELDS', 'OomParser', 'EventCollector', 'parse_lines', 'parse_text',
    'unwrap_line', 'classify_event', 'parse_time_bound', 'is_strict_ancestor', 'scan_file',
    'scan_stream',
]

EVENT_FIELDS = (
    'source', 'line', 'time', 'uptime', 'host', 'invoker', 'invoker_pid', 'gfp_mask', 'gfp_flags',
    'order', 'oom_score_adj', 'constraint', 'nodemask', 'cpuset', 'mems_allowed', 'killed_pid',
    'killed_comm', 'total_vm_kb', 'anon_rss_kb', 'file_rss_kb', 'shmem_rss_kb', 'pgtables_kb',
    'killed_uid', 'killed_oom_score_adj', 'memcg', 'task_memcg', 'memcg_usage_kb', 'memcg_limit_kb',
    'failcnt', 'memsw_usage_kb', 'memsw_limit_kb', 'cause', 'confidence', 'evidence', 'oom_group',
    'group_killed', 'reaped', 'panic', 'no_killable', 'nodes_below_min', 'extra', 'sources',
    'sysrq', 'verified', 'evidence_lines',
)

# The causes table: the one home of the list of causes and of what each means.  The fact module's
# RETURN docs, docs/oom-events.md, the diagnosis report (plugin_utils/oom_report.py) and
# report.schema.json derive from it or are checked against it by a drift test.
CAUSE_TABLE = (
    ('cgroup_limit', 'cgroup hit its own memory limit'),
    ('parent_cgroup_limit', 'a parent cgroup hit its memory limit'),
    ('system_memory', 'the whole system ran out of memory'),
    ('numa_node_or_policy', 'a NUMA node or memory policy ran out of memory'),
    ('cpuset', 'the memory nodes of a cpuset ran out'),
    ('fragmentation', 'no free block of the order asked for (fragmentation)'),
    ('manual', 'an OOM kill asked for by hand (sysrq f), not by a lack of memory'),
    ('unknown', 'not enough context in the log to tell'),
)
CAUSES = tuple(name for name, _text in CAUSE_TABLE)
CAUSE_TEXT = dict(CAUSE_TABLE)

# Userspace OOM killers whose kill lines go to ``userspace_events`` (never to ``events``).
USERSPACE_KILLERS = ('systemd-oomd', 'earlyoom', 'nohang')
USERSPACE_FIELDS = ('source', 'line', 'time', 'host', 'killer', 'victim_pid', 'victim_comm', 'unit', 'cgroup',
                    'reason', 'signal', 'detail', 'sources')

# Lines that open an event when none is open, found in one pass over the data.
# A report starts with "<comm> invoked oom-killer:"; its kill line starts with "K".
START_ANCHOR = b'invoked oom'
K_ANCHORS = (b'Killed process', b'Kill process', b'Kernel panic')
# The orphans of a report whose start and kill line did not survive open an event too: the
# oom-kill: summary, "Task in X killed as a result of limit of Y", "Out of memory and no
# killable processes..." (a warning since 4.x, a panic before), "Tasks in X are going to be killed
# due to memory.oom.group set", the oom_reaper line.  Each has a literal that kernel lines carry and
# little else does; the scan searches them one by one with libc's strstr (``_needle_offsets``).
# One table: the scan (``_hits``) and the line-by-line reference (``opens_event``) both read it.
# 'S': a report start ("invoked oom-killer:", "invoked oom:" in some excerpts), 'O': another line.
OPEN_NEEDLES = (
    # the start anchor without its first two bytes: strstr tests the needle's first two bytes at
    # SIMD speed, and "in" is everywhere in text ("vo" is not); the scan checks them after a hit
    (START_ANCHOR[2:], 'S'),
    (b'oom-kill:', 'O'),
    (b'oom_reaper', 'O'),
    (b'oom.group', 'O'),
    (b'as a result of limit', 'O'),
    (b'Out of memory and', 'O'),
)
# userspace killers: systemd-oomd "Killed /x.slice/y.scope due to ...", found by the "K" search;
# earlyoom "sending SIGTERM to process ..." and nohang "  Sending SIGKILL to the victim", found by a
# search for "SIG" and a match where it is
U_K_ANCHOR = b'Killed /'
U_NEEDLE = b'SIG'
_RE_SCAN_U = re.compile(rb'SIG[A-Z12]{2,6} to (?:process \d|the victim)')


_RE_STAMP_RAW = re.compile(rb'\[\s*\d+\.\d+\]')
# include/linux/sched.h (every version since 2.6): a task's comm holds at most 15 bytes and a NUL.
# The first part of a record that a newline in the invoker's comm split in two is at most that long.
TASK_COMM_LEN = 16


def _could_be_comm_part(text):
    """Can ``text`` (bytes or str, a line's message after its stamp) be the first part of a comm that a
    newline split from the rest of its record?"""
    if isinstance(text, str):
        text = text.encode('utf-8', 'replace')
    return len(text.strip()) < TASK_COMM_LEN


def continues_record(prev, line):
    """Is raw ``line`` the rest of the record that ``prev`` began (a name holding a newline)?
    dmesg and journalctl print the rest aligned under the text; /proc/kmsg (rsyslog imklog) gives
    it its own line with the record's "[ uptime]" stamp again."""
    if prev is None:
        return False
    if line[:8].isspace():
        return True
    i = prev.find(b'[', 0, 240)
    if i > 0 and line.startswith(prev[:i]) and line[i:i + 8].isspace():
        # a console's own prefix, then the aligned rest
        return True
    m = _RE_STAMP_RAW.search(line, 0, 200)
    if m is None or START_ANCHOR not in line or START_ANCHOR in prev:
        return False
    at = prev.find(m.group(0), 0, 200)
    # the same stamp and, after it, no more than the first part of a comm (another record of the
    # same microsecond is not the start of this one)
    return at >= 0 and _could_be_comm_part(prev[at + len(m.group(0)):])


def opens_event(line):
    """Can this raw line open an event?  (The line-by-line reference uses what the scan finds.)"""
    return any(a in line for a in K_ANCHORS) or any(needle in line for needle, _kind in OPEN_NEEDLES)


def userspace_anchor(line):
    """Is this raw line a candidate kill line of a userspace OOM killer?"""
    return U_K_ANCHOR in line or _RE_SCAN_U.search(line) is not None


# Bytes of the previous block kept as context (nohang prints its victim before its kill line; the
# context read is the 16 KiB before it, _context_before).  Every block moves them to the front of
# the buffer: 1 MiB of them cost about 0.05 s per GiB.
LOOKBACK = 64 * 1024
BLOCK_SIZE = 1 * 1024 * 1024
# A window closes after this many lines without any recognised OOM-report line.
WINDOW_IDLE_LINES = 2000
# A kill line may still join a victimless event this many lines later.
ATTACH_DISTANCE = 20000
# Lines of a kernel report after the kill line that are still read (oom_reaper, group kills).
TAIL_LINES = 4
PARALLEL_MIN_BYTES = 64 * 1024 * 1024
# Longest line kept (longer ones are skipped): bounds memory on binary garbage.
MAX_LINE = 4 * 1024 * 1024

# --------------------------------------------------------------------------------------------
# wrapper stripping
# --------------------------------------------------------------------------------------------

_MONTHS = {}
for _i, _names in enumerate((
        'jan january janv janvier ene enero gen gennaio sty styczen январь янв января',
        'feb february fev fevr févr fév fevrier février febrero febbraio lut luty февраль фев февраля',
        'mar march mär marz märz mars marzo mrt marco março kwi мар март марта',
        'apr april avr avril abr abril aprile kwiecien апр апрель апреля',
        'may mai mayo mag maggio mei maj мая май',
        'jun june juin junio giu giugno cze czerwiec июн июнь июня',
        'jul july juil juillet julio lug luglio lip lipiec июл июль июля',
        'aug august aout août ago agosto sie sierpien авг август августа',
        'sep sept september septembre septiembre set settembre setembro wrz wrzesien сен сентябрь сентября',
        'oct october okt oktober octobre octubre ott ottobre out outubro paz paź październik окт октябрь октября',
        'nov november novembre noviembre novembro lis listopad ноя ноябрь ноября',
        'dec december déc dez dezember decembre décembre dic diciembre dicembre dezembro gru grudzien дек декабрь декабря',
), 1):
    for _n in _names.split():
        _MONTHS.setdefault(_n, _i)
# the Polish 'mar' is March too; 'kwi' is April (fix the row above where it was listed early)
_MONTHS['kwi'] = 4

_BSD_MONTHS = {'Jan': 1, 'Feb': 2, 'Mar': 3, 'Apr': 4, 'May': 5, 'Jun': 6, 'Jul': 7, 'Aug': 8,
               'Sep': 9, 'Oct': 10, 'Nov': 11, 'Dec': 12}

_SEVERITIES = ('emerg', 'alert', 'crit', 'err', 'error', 'warning', 'warn', 'notice', 'info', 'debug', 'panic')

_RE_UPTIME = re.compile(r'\[\s*(\d+\.\d+)\]\s?(?:\[\s*[TC]\d+\]\s?)?')
_RE_CALLER = re.compile(r'\[\s*[TC]\d+\]\s?')
_RE_KMSG = re.compile(r'(\d+),(\d+),(\d+),[^;]*;')
_RE_PRI = re.compile(r'<(\d{1,3})>')
_RE_5424 = re.compile(r'<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (?:-|(?:\[(?:[^\]\\]|\\.)*\])+) ?')
_RE_ISO = re.compile(r'(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:([.,])(\d+))?\s?(Z|[+-]\d\d:?\d\d)?')
_RE_BSD = re.compile(r'([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?: (\d{4}))? ')
_RE_BSD_FULL = re.compile(r'([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?: (\d{4}))? '
                          r'(\S+) ([^\s\[\]:]+)(?:\[([^\]]*)\])?: ?(?:\[\s*(\d+\.\d+)\]\s?(?:\[\s*[TC]\d+\]\s?)?)?')
_RE_HOSTPROG = re.compile(r'(\S+) ([^\s\[\]:]+)(?:\[([^\]]*)\])?: ?')
_RE_PROG = re.compile(r'([^\s\[\]:|]+)(?:\[([^\]]*)\])?: ?')
# journalctl -o short* --no-hostname: the program right after the time, "kernel: msg" ("prog[pid]: ");
# a host name never ends in a colon, so "host prog: msg" does not match
_RE_PROG_NOHOST = re.compile(r'([^\s\[\]:|]+)(?:\[([^\]]*)\])?:(?: |$)')
_RE_PIPE = re.compile(r'(emerg|alert|crit|err|error|warning|warn|notice|info|debug|panic)\|([^|\[]*)(?:\[([^\]|]*)\])?\|')
_RE_PIPE_NOPROG = re.compile(r'(emerg|alert|crit|err|error|warning|warn|notice|info|debug|panic)\|')
_RE_DMESG_X = re.compile(r'(kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|local\d)\s*:'
                         r'\s*(emerg|alert|crit|err|warn|warning|notice|info|debug)\s*: ?')
_RE_DMESG_T = re.compile(r'\[([^\]]{8,60})\] ?')
_RE_CLOCK = re.compile(r'(\d{1,2}):(\d\d)(?::(\d\d))?(?:[.,](\d+))?')
# dmesg --time-format delta "[<    0.000123>]" and reltime "[  +0.000123]" (after the first line)
_RE_DELTA = re.compile(r'\[\s*(?:<\s*\d+\.\d+>|\+\d+\.\d+)\]\s?')
# journalctl -o short-full "Wed 2026-12-02 09:50:01 UTC host prog: " and -o short-unix "1764669001.123456 host prog: "
_RE_SHORT_FULL = re.compile(r'[A-Z][a-z]{2} (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? ([A-Za-z+\-0-9]+) ')
_RE_UNIX = re.compile(r'(\d{9,11}\.\d+) ')
# journalctl -o json-pretty / -o export / -o verbose field lines
_RE_PRETTY_MSG = re.compile(r'\s*"MESSAGE"\s*:\s*("(?:[^"\\]|\\.)*")\s*,?\s*$')
_RE_FIELD_MSG = re.compile(r'\s*MESSAGE=(.*)$', re.S)
# a kernel message after any other prefix that ends in the kernel's own "[ uptime]"
_RE_UPTIME_ANY = re.compile(r'\[\s*(\d+\.\d{6})\]\s?(?:\[\s*[TC]\d+\]\s?)?')
_RE_KMSG_ESC = re.compile(r'\\x([0-9a-f]{2})')
# JSON log shippers (Vector, Loki, Fluent Bit, cloud log exports): the text under one of these keys
_JSON_TEXT_KEYS = ('message', 'msg', 'log', 'textPayload', 'line', 'body', 'MESSAGE')
_RE_ESCAPE = re.compile(r'#(\d{3})')

KERNEL = 'kernel'


class Wrapped(object):
    """One unwrapped log line.  ``program`` is 'kernel', another program name, or None (unknown)."""

    __slots__ = ('program', 'host', 'uptime', '_epoch', 'msg', 'cursor', 'fmt')

    def __init__(self, msg, program=KERNEL, host=None, uptime=None, epoch=None, cursor=None, fmt='bare'):
        self.msg = msg
        self.program = program
        self.host = host
        self.uptime = uptime
        self._epoch = epoch
        self.cursor = cursor
        self.fmt = fmt

    @property
    def epoch(self):
        """Seconds since the epoch (computed on first use: most lines never need it)."""
        e = self._epoch
        if callable(e):
            e = self._epoch = e()
        return e


_HOUR_STARTS = {}
_YEARS = {}
_CACHE_MAX = 4096


def _epoch_from_parts(year, month, day, hh, mm, ss, frac=None, tz=None):
    """Seconds since the epoch.  tz None = local time, 'Z' or +hh:mm offsets honoured."""
    # mktime() and timegm() cost microseconds; a log's lines share their hours, so the start of
    # each hour is remembered (daylight saving changes on whole hours)
    key = (year, month, day, hh, tz)
    try:
        start = _HOUR_STARTS[key]
    except KeyError:
        start = _hour_start(year, month, day, hh, tz)
        if len(_HOUR_STARTS) >= _CACHE_MAX:
            _HOUR_STARTS.clear()
        _HOUR_STARTS[key] = start
    if start is None or not (0 <= mm < 60 and 0 <= ss < 61):
        return None
    return start + mm * 60 + ss + (float('0.' + frac) if frac else 0.0)


def _hour_start(year, month, day, hh, tz):
    try:
        if tz is None:
            return time.mktime((year, month, day, hh, 0, 0, 0, 0, -1))
        base = calendar.timegm((year, month, day, hh, 0, 0, 0, 0, 0))
        if tz in ('Z', 'z'):
            return base
        sign = -1 if tz[0] == '-' else 1
        digits = tz[1:].replace(':', '')
        off = int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60
        return base - sign * off
    except (ValueError, OverflowError, OSError, TypeError, IndexError):
        return None


def _infer_year(month, day, ref_epoch):
    """Classic syslog has no year: take the reference's year, or the one before for dates ahead."""
    key = (month, day, ref_epoch)
    year = _YEARS.get(key)
    if year is None or ref_epoch is None:
        ref = time.localtime(ref_epoch if ref_epoch is not None else time.time())
        year = ref.tm_year
        if (month, day) > (ref.tm_mon, ref.tm_mday + 1) and not (ref.tm_mon == 12 and month == 1):
            year -= 1
        if len(_YEARS) >= _CACHE_MAX:
            _YEARS.clear()
        _YEARS[key] = year
    return year


def _parse_dmesg_t(text, ref_epoch):
    """Parse the date inside ``dmesg -T`` brackets, in any language; None when it is no date."""
    m = _RE_CLOCK.search(text)
    if not m:
        return None
    year = None
    day = None
    month = None
    rest = (text[:m.start()] + ' ' + text[m.end():])
    for tok in re.split(r'[\s,]+', rest):
        if not tok:
            continue
        low = tok.lower().rstrip('.')
        if re.match(r'^\d{4}$', low):
            year = int(low)
        elif re.match(r'^\d{1,2}$', low):
            if day is None:
                day = int(low)
        else:
            mm = re.match(r'^(\d{1,2})(?:月|월)$', low)
            if mm:
                month = int(mm.group(1))
            elif month is None and low in _MONTHS:
                month = _MONTHS[low]
            else:
                dm = re.match(r'^(\d{1,2})(?:日|일)$', low)
                if dm:
                    day = int(dm.group(1))
    if month is None or day is None:
        # still a dmesg -T stamp (has a clock), only the date is unreadable
        return False
    if year is None:
        year = _infer_year(month, day, ref_epoch)
    return _epoch_from_parts(year, month, day, int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), m.group(4))


def _strip_uptime(msg):
    """Remove a leading ``[ 123.456]`` stamp (and printk caller id); return (uptime, rest)."""
    if msg[:1] == '[':
        m = _RE_UPTIME.match(msg)
        if m:
            return float(m.group(1)), msg[m.end():]
    return None, msg


def _from_json(line):
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    if not isinstance(rec, dict):
        return None
    msg = rec.get('MESSAGE')
    if msg is None:
        return _from_json_shipper(rec)
    if isinstance(msg, list):
        try:
            msg = bytes(msg).decode('utf-8', 'replace')
        except (TypeError, ValueError):
            msg = None
    if not isinstance(msg, str):
        return Wrapped('', program=None, fmt='json')
    transport = rec.get('_TRANSPORT')
    ident = rec.get('SYSLOG_IDENTIFIER')
    if transport is not None:
        # only the kernel transport proves a kernel message (logger -t kernel uses syslog/stdout)
        program = KERNEL if transport == 'kernel' else '%s(%s)' % (ident or '-', transport)
    else:
        program = KERNEL if ident == 'kernel' else ident
    epoch = None
    try:
        if rec.get('__REALTIME_TIMESTAMP') is not None:
            epoch = int(rec['__REALTIME_TIMESTAMP']) / 1e6
    except (TypeError, ValueError):
        epoch = None
    uptime = None
    try:
        if rec.get('_SOURCE_MONOTONIC_TIMESTAMP') is not None:
            uptime = int(rec['_SOURCE_MONOTONIC_TIMESTAMP']) / 1e6
    except (TypeError, ValueError):
        uptime = None
    up2, msg = _strip_uptime(msg)
    if up2 is not None:
        uptime = up2
    return Wrapped(msg, program=program, host=rec.get('_HOSTNAME'), uptime=uptime, epoch=epoch,
                   cursor=rec.get('__CURSOR'), fmt='journal-json')


def _from_json_shipper(rec):
    """A JSON line of a log shipper: the text under ``message`` (or similar) is unwrapped as a log
    line; the record's own host, time and transport fill what the text does not say."""
    text = None
    for key in _JSON_TEXT_KEYS:
        v = rec.get(key)
        if isinstance(v, str):
            text = v
            break
    if text is None:
        return Wrapped('', program=None, fmt='json')
    w = _unwrap(text, None)
    transport = rec.get('_TRANSPORT') or rec.get('transport')
    ident = rec.get('SYSLOG_IDENTIFIER') or rec.get('syslog_identifier') or rec.get('appname') or rec.get('ident')
    if transport is not None:
        w.program = KERNEL if transport == 'kernel' else '%s(%s)' % (ident or '-', transport)
    elif ident is not None and w.program is None:
        w.program = KERNEL if ident == 'kernel' else ident
    if w.host is None:
        host = rec.get('host') or rec.get('hostname') or rec.get('_HOSTNAME')
        w.host = host if isinstance(host, str) else None
    if w._epoch is None:  # pylint: disable=protected-access
        for key in ('timestamp', '@timestamp', 'time', 'ts', 'date'):
            v = rec.get(key)
            if isinstance(v, str):
                m = _RE_ISO.match(v)
                if m:
                    w._epoch = _lazy(_iso_epoch, m)  # pylint: disable=protected-access
                    break
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                w._epoch = float(v) / (1e9 if v > 1e15 else 1e3 if v > 1e11 else 1)  # pylint: disable=protected-access
                break
    w.fmt = 'json-lines'
    return w


def _after_program(rest, host, epoch, fmt):
    """rest starts with ``prog[pid]: msg``."""
    m = _RE_PROG.match(rest)
    if not m:
        return Wrapped(rest, program=None, host=host, epoch=epoch, fmt=fmt)
    prog = m.group(1)
    msg = rest[m.end():]
    uptime, msg = _strip_uptime(msg)
    return Wrapped(msg, program=KERNEL if prog == 'kernel' else prog, host=host, uptime=uptime,
                   epoch=epoch, fmt=fmt)


def _no_host(rest, epoch, fmt):
    """A ``Wrapped`` when ``rest`` is ``prog[pid]: msg`` without a host name before it, else None."""
    m = _RE_PROG_NOHOST.match(rest)
    if m is None:
        return None
    prog = m.group(1)
    uptime, msg = _strip_uptime(rest[m.end():])
    return Wrapped(msg, program=KERNEL if prog == 'kernel' else prog, uptime=uptime, epoch=epoch, fmt=fmt)


def unwrap_line(line, ref_epoch=None):
    """Strip the log wrapper from one line (str).  Returns a :class:`Wrapped`, never raises."""
    try:
        return _unwrap(line, ref_epoch)
    except Exception:  # pylint: disable=broad-except
        return Wrapped(line, program=None, fmt='garbage')


# Formats in which everything before the kernel's "[ uptime]" stamp (time, host, program) is read
# from that part alone, and the message is the rest of the line after the stamp.
_HEAD_FORMATS = frozenset(('syslog', 'rfc3339', 'pipe', 'rfc5424', 'journal-short-full', 'journal-short-unix'))


def head_of(text, w):
    """(head, stamp offset, w) when ``w = unwrap_line(text)`` is ``head + "[ uptime] " + w.msg``
    in one of ``_HEAD_FORMATS``, else None: a line that starts with the same head unwraps to the
    same time, host and program (``unwrap_after_head``)."""
    if w.uptime is None or w.fmt not in _HEAD_FORMATS or w.cursor is not None:
        return None
    end = len(text) - len(w.msg)
    if end <= 0 or not text.endswith(w.msg):
        return None
    at = text.rfind('[', 0, end)
    for _try in range(2):  # the stamp, or the stamp before a printk caller id "[T12]"
        if at <= 0:
            return None
        m = _RE_UPTIME.match(text, at)
        if m is not None and m.end() == end and float(m.group(1)) == w.uptime:
            return (text[:at], at, w)
        at = text.rfind('[', 0, at)
    return None


def unwrap_after_head(text, head):
    """``unwrap_line(text)`` for a line that starts with ``head`` (from ``head_of``), or None."""
    if not text.startswith(head[0]):
        return None
    m = _RE_UPTIME.match(text, head[1])
    if m is None:
        return None
    t = head[2]
    return Wrapped(text[m.end():], program=t.program, host=t.host, uptime=float(m.group(1)), epoch=t._epoch,  # pylint: disable=protected-access
                   fmt=t.fmt)


def _unwrap(line, ref_epoch):
    s = line.rstrip('\r\n')
    c = s[:1]
    if c == '{':
        w = _from_json(s)
        if w is not None:
            return w
    if c == '<':
        m = _RE_5424.match(s)
        if m:
            epoch = None
            mi = _RE_ISO.match(m.group(2))
            if mi:
                epoch = _lazy(_iso_epoch, mi)
            app = m.group(4)
            msg = s[m.end():]
            if msg.startswith('\ufeff'):
                msg = msg[1:]
            uptime, msg = _strip_uptime(msg)
            return Wrapped(msg, program=KERNEL if app == 'kernel' else app,
                           host=None if m.group(3) == '-' else m.group(3), uptime=uptime, epoch=epoch,
                           fmt='rfc5424')
        m = _RE_PRI.match(s)
        if m:
            pri = int(m.group(1))
            inner = _unwrap(s[m.end():], ref_epoch)
            if inner.fmt in ('bare', 'dmesg'):
                # dmesg -r / klog: the facility tells kernel (0) from userspace writes to /dev/kmsg
                inner.program = KERNEL if pri < 8 else 'user'
                inner.fmt = 'dmesg-raw'
            return inner
    if c.isdigit():
        m = _RE_KMSG.match(s)
        if m:
            pri = int(m.group(1))
            msg = s[m.end():]
            if '\\x' in msg:
                msg = kmsg_unescape(msg)
            return Wrapped(msg, program=KERNEL if pri < 8 else 'user', uptime=int(m.group(3)) / 1e6,
                           fmt='kmsg')
        m = _RE_UNIX.match(s)
        if m:
            rest = s[m.end():]
            w = _no_host(rest, float(m.group(1)), 'journal-short-unix')
            if w is not None:
                return w
            hm = _RE_HOSTPROG.match(rest)
            if hm:
                prog = hm.group(2)
                uptime, msg = _strip_uptime(rest[hm.end():])
                return Wrapped(msg, program=KERNEL if prog == 'kernel' else prog, host=hm.group(1), uptime=uptime,
                               epoch=float(m.group(1)), fmt='journal-short-unix')
        m = _RE_ISO.match(s)
        if m:
            epoch = _lazy(_iso_epoch, m)
            rest = s[m.end():]
            if rest[:1] == '|':
                return _pipe(rest[1:], epoch)
            if m.group(7) == ',' and not _RE_HOSTPROG.match(rest.lstrip()):
                # dmesg --time-format iso: no host, no program
                uptime, msg = _strip_uptime(rest.lstrip())
                return Wrapped(msg, uptime=uptime, epoch=epoch, fmt='dmesg-iso')
            rest = rest.lstrip()
            w = _no_host(rest, epoch, 'rfc3339')
            if w is not None:
                return w
            hm = _RE_HOSTPROG.match(rest)
            if hm:
                prog = hm.group(2)
                msg = rest[hm.end():]
                uptime, msg = _strip_uptime(msg)
                return Wrapped(msg, program=KERNEL if prog == 'kernel' else prog, host=hm.group(1),
                               uptime=uptime, epoch=epoch, fmt='rfc3339')
            uptime, msg = _strip_uptime(rest)
            if uptime is None:
                uptime, msg = _after_foreign_prefix(msg)
            return Wrapped(msg, program=None, uptime=uptime, epoch=epoch, fmt='rfc3339')
    if c.islower() and '|' in s[:40]:
        w = _pipe(s, None)
        if w is not None:
            return w
    if c.islower() and ':' in s[:20]:
        m = _RE_DMESG_X.match(s)
        if m:
            rest = s[m.end():]
            inner = _unwrap(rest, ref_epoch)
            inner.program = KERNEL if m.group(1) == 'kern' else m.group(1)
            inner.fmt = 'dmesg-x'
            return inner
    if c.isupper() and s[3:4] == ' ' and s[4:5].isdigit():
        m = _RE_SHORT_FULL.match(s)
        if m:
            tz = m.group(8)
            tz = 'Z' if tz in ('UTC', 'GMT', 'Z') else tz if tz[:1] in '+-' else None
            epoch = _lazy(_epoch_from_parts, int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                          int(m.group(5)), int(m.group(6)), m.group(7), tz)
            rest = s[m.end():]
            w = _no_host(rest, epoch, 'journal-short-full')
            if w is not None:
                return w
            hm = _RE_HOSTPROG.match(rest)
            if hm:
                prog = hm.group(2)
                uptime, msg = _strip_uptime(rest[hm.end():])
                return Wrapped(msg, program=KERNEL if prog == 'kernel' else prog, host=hm.group(1), uptime=uptime,
                               epoch=epoch, fmt='journal-short-full')
    if c.isupper():
        m = _RE_BSD.match(s)
        if m and m.group(1) in _BSD_MONTHS:
            w = _no_host(s[m.end():], _lazy(_bsd_epoch, m, ref_epoch), 'syslog')
            if w is not None:
                return w
        m = _RE_BSD_FULL.match(s)
        if m and m.group(1) in _BSD_MONTHS:
            prog = m.group(9)
            up = m.group(11)
            return Wrapped(s[m.end():], program=KERNEL if prog == 'kernel' else prog, host=m.group(8),
                           uptime=float(up) if up else None, epoch=_lazy(_bsd_epoch, m, ref_epoch), fmt='syslog')
        m = _RE_BSD.match(s)
        if m and m.group(1) in _BSD_MONTHS:
            epoch = _lazy(_bsd_epoch, m, ref_epoch)
            rest = s[m.end():]
            hm = _RE_HOSTPROG.match(rest)
            if hm:
                prog = hm.group(2)
                msg = rest[hm.end():]
                uptime, msg = _strip_uptime(msg)
                return Wrapped(msg, program=KERNEL if prog == 'kernel' else prog, host=hm.group(1),
                               uptime=uptime, epoch=epoch, fmt='syslog')
            uptime, rest = _after_foreign_prefix(rest)
            return Wrapped(rest, program=None, uptime=uptime, epoch=epoch, fmt='syslog')
    if c == '[':
        m = _RE_DELTA.match(s)
        if m:
            return Wrapped(s[m.end():], fmt='dmesg-delta')
        m = _RE_UPTIME.match(s)
        if m:
            rest = s[m.end():]
            # journalctl -o short-monotonic: "[  205.060898] host kernel: msg"
            hm = _RE_HOSTPROG.match(rest)
            if hm and hm.group(2) == 'kernel' and not hm.group(3):
                return Wrapped(rest[hm.end():], host=hm.group(1), uptime=float(m.group(1)), fmt='journal-short')
            if rest.startswith('kernel: '):
                # journalctl -o short-monotonic --no-hostname
                return Wrapped(rest[8:], uptime=float(m.group(1)), fmt='journal-short')
            return Wrapped(rest, uptime=float(m.group(1)), fmt='dmesg')
        m = _RE_DMESG_T.match(s)
        if m:
            epoch = _parse_dmesg_t(m.group(1), ref_epoch)
            if epoch is not None:
                rest = s[m.end():]
                caller = _RE_CALLER.match(rest)
                if caller:
                    rest = rest[caller.end():]
                return Wrapped(rest, epoch=epoch if epoch is not False else None, fmt='dmesg-T')
    if s.startswith('kernel:') or s.startswith('kernel['):
        return _after_program(s, None, None, 'syslog')
    if c.isspace() or c == '"':
        # journalctl -o json-pretty, -o export, -o verbose: one field per line
        m = _RE_PRETTY_MSG.match(s)
        if m:
            try:
                return Wrapped(json.loads(m.group(1)), program=None, fmt='journal-json-pretty')
            except ValueError:
                pass
        m = _RE_FIELD_MSG.match(s)
        if m:
            return Wrapped(m.group(1), program=None, fmt='journal-fields')
    if s.startswith('MESSAGE='):
        return Wrapped(s[8:], program=None, fmt='journal-export')
    if len(s) > 8 and s[1:8] == '\x00' * 7 or s[2:8] == '\x00' * 6 and len(s) > 8:
        # journalctl -o export: a binary field (a message holding a newline): 64-bit length, data
        return Wrapped(s[8:], program=None, fmt='journal-export')
    if '[' in s[:240]:
        # serial consoles, hypervisor logs, cloud exports: any prefix, then the kernel's "[ uptime]"
        m = _RE_UPTIME_ANY.search(s, 0, 260)
        if m:
            return Wrapped(s[m.end():], uptime=float(m.group(1)), fmt='prefixed')
    return Wrapped(s, fmt='bare')


def kmsg_unescape(msg):
    """Undo /dev/kmsg's escapes: every byte below 0x20 or above 0x7e and the backslash are printed
    as ``\\xHH`` (a newline in a name is ``\\x0a``, UTF-8 ``ü`` is ``\\xc3\\xbc``).  syslog-ng
    keeps them as they are."""
    try:
        raw = _RE_KMSG_ESC.sub(lambda e: chr(int(e.group(1), 16)), msg).encode('latin-1')
    except UnicodeEncodeError:
        return msg
    return raw.decode('utf-8', 'replace')


def _after_foreign_prefix(msg):
    """(uptime, text after it) when some prefix is followed by the kernel's own "[ uptime]" stamp."""
    if '[' in msg[:240]:
        m = _RE_UPTIME_ANY.search(msg, 0, 260)
        if m:
            return float(m.group(1)), msg[m.end():]
    return None, msg


def _lazy(fn, *args):
    return lambda: fn(*args)


def _bsd_epoch(m, ref_epoch):
    month = _BSD_MONTHS[m.group(1)]
    day = int(m.group(2))
    year = int(m.group(7)) if m.group(7) else _infer_year(month, day, ref_epoch)
    return _epoch_from_parts(year, month, day, int(m.group(3)), int(m.group(4)), int(m.group(5)), m.group(6))


def _iso_epoch(m):
    return _epoch_from_parts(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                             int(m.group(5)), int(m.group(6)), m.group(8), m.group(9))


def _pipe(s, epoch):
    """EulerOS / HCE pipe format after the optional timestamp: ``severity|prog[pid]|msg``."""
    m = _RE_PIPE.match(s)
    if m:
        prog = m.group(2)
        msg = s[m.end():]
        uptime, msg = _strip_uptime(msg)
        return Wrapped(msg, program=KERNEL if prog == 'kernel' else (prog or None), uptime=uptime,
                       epoch=epoch, fmt='pipe')
    m = _RE_PIPE_NOPROG.match(s)
    if m:
        msg = s[m.end():]
        uptime, msg = _strip_uptime(msg)
        return Wrapped(msg, program=None, uptime=uptime, epoch=epoch, fmt='pipe')
    if epoch is not None:
        return Wrapped(s, program=None, epoch=epoch, fmt='pipe')
    return None


def _unescape(msg):
    """rsyslog control-character escapes: ``#012`` newline, ``#011`` tab."""
    if '#0' not in msg:
        return [msg]
    parts = msg.split('#012')
    out = []
    for p in parts:
        if '#011' in p:
            p = p.replace('#011', ' ')
        out.append(p)
    return out


# --------------------------------------------------------------------------------------------
# per-line patterns (tolerant: search, optional groups, key/value tokens)
# --------------------------------------------------------------------------------------------

# re.S: a name may hold a newline (journald and /dev/kmsg keep the record whole)
_RE_INVOKED = re.compile(r'^(?P<comm>.*?) invoked oom(?:-killer)?:?\s*(?P<rest>.*)$', re.S)
# "Killed process N (comm) ...", RHEL 6 "Killed process N, UID U, (comm) ...", Linux-VServer
# "Killed process N:#X, UID U, (comm) ..."; the comm may hold spaces, parentheses and colons
_RE_KILLED = re.compile(r'(?:^|: |\s)Killed process (?P<pid>\d+)(?::#\d+)?(?:, UID (?P<uid>\d+),)? '
                        r'\((?P<comm>.*)\)(?P<rest>[^)]*)$', re.S)
# a kill line cut inside the name: a comm with a newline, printed by /proc/kmsg (imklog) and
# escaped by rsyslog (#012) as two lines; the rest of the name and the fields follow on the next
_RE_KILLED_OPEN = re.compile(r'(?:^|: |\s)Killed process (?P<pid>\d+)(?::#\d+)?(?:, UID (?P<uid>\d+),)? '
                             r'\((?P<comm>[^)]*)$')
_RE_COMM_REST = re.compile(r'^(?P<comm>[^)]*)\)(?P<rest>(?:\s|,).*)?$', re.S)
# dmesg prints the rest of a multi-line record aligned under the text, after a run of spaces (and a
# console may put its own prefix before that)
_RE_ALIGNED = re.compile(r'^(?:\S.*?)?\s{8,}(?=\S)')
_RE_SELECT = re.compile(r'[Kk]ill process (?P<pid>\d+) \((?P<comm>.*)\) score (?P<score>-?\d+)', re.S)
_RE_OOMKILL = re.compile(r'^oom-kill:\s*(?P<rest>.*)$', re.S)
_RE_REAPER = re.compile(r'oom_reaper: reaped process (?P<pid>\d+) \((?P<comm>.*)\),?(?P<rest>.*)$', re.S)
_RE_MEMUSAGE = re.compile(r'^(?P<kind>memory|memory\+swap|swap|kmem|kmem\.tcp|tcp):? usage:? (?P<usage>\d+)\s?kB,? '
                          r'limit:? (?P<limit>\d+)\s?kB(?:,? failcnt:? (?P<failcnt>\d+))?')
_RE_TASKIN = re.compile(r'Task in (?P<task>\S+) killed as a result of limit of (?P<memcg>\S+)')
_RE_STATS = re.compile(r'^Memory cgroup stats for (?P<path>/[^:]*|\S*?):?(?: |$)')
_RE_CPU = re.compile(r'^CPU: \d+ (?:UID: \d+ )?PID: (?P<pid>\d+) Comm: (?P<comm>.+?) (?:Not tainted|Tainted)', re.S)
_RE_CPUSET = re.compile(r'\bcpuset=(?P<cpuset>\S+) mems_allowed=(?P<mems>\S+)')
_RE_NODE = re.compile(r'^Node (?P<node>\d+) (?P<zone>[A-Za-z0-9_]+) free:(?P<free>\d+)kB (?:boost:\d+kB )?min:(?P<min>\d+)kB')
_RE_BUDDY = re.compile(r'^Node (?P<node>\d+) (?P<zone>[A-Za-z0-9_]+): (?P<list>(?:\d+\*\d+kB.*?)+)= ?(?P<total>\d+)kB')
_RE_BUDDY_ITEM = re.compile(r'(\d+)\*(\d+)kB')
_RE_TASKS_HDR = re.compile(r'^\[\s*pid\s*\]\s+(?P<cols>.*)$')
_RE_TASK_ROW = re.compile(r'^\[\s*(?P<pid>\d+)\]\s+(?P<rest>.*)$')
_RE_GROUP = re.compile(r'Tasks in (?P<path>\S+) are going to be killed due to memory\.oom\.group')
_RE_KV = re.compile(r'^(?P<k>[A-Za-z_][\w.+-]*)[:=]\s*(?P<v>.*)$')
_RE_KB = re.compile(r'^(-?\d+)\s*kB$', re.I)
_RE_GFP = re.compile(r'^(0x[0-9a-fA-F]+)(?:\((.*)\))?$')

# a task table row, tested on the raw bytes of a window line
_RE_ROW_RAW = re.compile(rb'\[ *\d+\] ')
# what the summary and the cause need (first occurrence in a report); the rest is read later
# (and every line that opens an event of another host in the line-by-line reference, such as a
# 2.6.32 selection line "Out of memory: kill process N (x) score S or a child")
_LIGHT_KEYWORDS = (b'oom-kill:', b'memory: usage', b'Task in ', b'Memory cgroup stats for', b'cpuset=', b'ill process',
                   b'no killable', b'oom.group', b'not syncing', b'deadlocked on memory', b'Mem-Info', b'oom_reaper',
                   b'Node ')
_LIGHT_MEM_INFO = _LIGHT_KEYWORDS.index(b'Mem-Info')
# reports up to this size are kept raw for a deferred full parse (only of the returned events)
MAX_DEFERRED_REGION = 64 * 1024
_REGION_KEYWORDS = (b'oom', b'ill', b': usage', b'Memory cgroup', b'Task', b'Node ', b'CPU: ', b'of memory',
                    b'on memory', b'cpuset=', b'Mem-Info', b'"MESSAGE":[', b'"MESSAGE": [')
MAX_TASK_ROWS = 20000


def _is_terminal(msg):
    """Nothing killable, or a panic on OOM: mm/oom_kill.c "Out of memory and no killable processes...",
    panic("System is deadlocked on memory"), panic("Out of memory: %s panic_on_oom is enabled") (3.10+),
    panic("out of memory. panic_on_oom is selected") (2.6.32, lower case), openEuler's Ascend
    panic("Out of memory, panic by sysctl_enable_oom_killer")."""
    return msg.startswith('Out of memory and no killable') or 'not syncing: Out of memory' in msg or \
        'not syncing: out of memory' in msg or 'deadlocked on memory' in msg


# the region keywords in one pattern: one search of a line costs half of a dozen ``in`` tests
_RE_INTERESTING = re.compile(b'|'.join(re.escape(kw) for kw in _REGION_KEYWORDS))


def _interesting(line):
    """Can this raw line be part of an OOM report (a region keyword, not a call-trace line)?"""
    return _RE_INTERESTING.search(line) is not None and b'+0x' not in line


_OOMKILL_FIELDS = {'constraint': 'constraint', 'nodemask': 'nodemask', 'cpuset': 'cpuset',
                   'mems_allowed': 'mems_allowed', 'oom_memcg': 'memcg', 'task_memcg': 'task_memcg'}
_KILL_KEYS = {'total-vm': 'total_vm_kb', 'anon-rss': 'anon_rss_kb', 'file-rss': 'file_rss_kb',
              'shmem-rss': 'shmem_rss_kb', 'pgtables': 'pgtables_kb', 'vsz': 'total_vm_kb',
              'UID': 'killed_uid', 'uid': 'killed_uid', 'oom_score_adj': 'killed_oom_score_adj'}


def _num(v):
    """'123', '123kB', '-5' -> int; anything else -> the string itself."""
    if v is None:
        return None
    v = v.strip().rstrip(',')
    # most values are plain or kB numbers: tested before trying int(), whose exception is slow
    digits = v[:-2] if v.endswith('kB') else v
    if digits.isdecimal() or digits[:1] == '-' and digits[1:].isdecimal():
        return int(digits)
    try:
        return int(v)
    except ValueError:
        pass
    m = _RE_KB.match(v)
    if m:
        return int(m.group(1))
    return v


def _int_or_none(v):
    v = _num(v)
    return v if isinstance(v, int) else None


_RE_TOKEN_SEP = re.compile(r',\s*|\s+')
_RE_COMMA = re.compile(r',')
_RE_NUMERIC_WORD = re.compile(r'^[\d-]+$')
_RE_UID = re.compile(r'\bUID[: ](\d+)')
# the key:value tokens of a kill line, as _tokens() would split them (separators: commas, spaces)
_RE_KV_ANYWHERE = re.compile(r'(?:^|(?<=[,\s]))([A-Za-z_][\w.+-]*)[:=]([^,\s]*)')


def _tokens(rest, sep_re=_RE_TOKEN_SEP):
    """Split ``k=v, k:v k2:v2`` into (key, value) pairs; bare words become (word, True)."""
    out = []
    for tok in sep_re.split(rest.strip()):
        if not tok:
            continue
        m = _RE_KV.match(tok)
        if m:
            out.append((m.group('k'), m.group('v')))
        else:
            out.append((tok, True))
    return out


def is_strict_ancestor(parent, child):
    """True when cgroup path ``parent`` is a proper ancestor of ``child``."""
    if not parent or not child or not isinstance(parent, str) or not isinstance(child, str):
        return False
    p = parent.rstrip('/') or '/'
    c = child.rstrip('/') or '/'
    if p == c:
        return False
    if p == '/':
        return c.startswith('/')
    return c.startswith(p + '/')


# the fields every new event starts with (copied: one dict copy instead of thirty stores)
_EVENT_TEMPLATE = dict.fromkeys(EVENT_FIELDS)
_EVENT_TEMPLATE.update(oom_group=False, reaped=False, panic=False, no_killable=False, sysrq=False, _memcg_kill=False,
                       _show_mem=False,
                       _kill_prefix=None, _has_invoked=False, _task_cols=None, _stats_path=None, _tail=None,
                       _selected=None, _oomkill_pid=None, _oomkill_task=None)


def _new_event(source, line, w):
    ev = _EVENT_TEMPLATE.copy()
    ev['source'] = source
    ev['line'] = line
    ev['host'] = w.host
    ev['uptime'] = w.uptime
    ev['evidence'] = []
    ev['extra'] = {}
    ev['sources'] = [source]
    ev['_epoch'] = w.epoch
    ev['_nodes'] = []
    ev['_buddy'] = {}
    ev['_rows'] = {}
    ev['_raw_rows'] = []
    ev['_last_line'] = line
    ev['_cursor'] = w.cursor
    # lines the cause rests on, as offsets from the event's first line (kept valid when a
    # parallel scan renumbers the event)
    ev['_ev_rel'] = [0]
    return ev


def _mark(ev, lineno):
    """Remember that line ``lineno`` is evidence of event ``ev``."""
    rel = ev['_ev_rel']
    if isinstance(rel, list) and len(rel) < 32:
        d = lineno - ev['line']
        if d >= 0 and d not in rel:
            rel.append(d)


# --------------------------------------------------------------------------------------------
# assembler
# --------------------------------------------------------------------------------------------

class OomParser(object):
    """Line-driven event assembler for one source.

    ``feed(raw_line, lineno)`` takes one raw line (bytes or str) and returns True while the
    current event wants more lines (the scan keeps walking lines), False when the scan may jump
    to the next anchor.  Complete events are passed to ``emit(event)``.
    """

    def __init__(self, source, emit, include_tasks=False, ref_epoch=None, boot_epoch=None, stats=None,
                 emit_userspace=None):
        self.source = source
        self.emit = emit
        # userspace killers' kills (systemd-oomd, earlyoom, nohang): never kernel events
        self.emit_userspace = emit_userspace
        self.include_tasks = include_tasks
        self.ref_epoch = ref_epoch
        self.boot_epoch = boot_epoch
        self.open = {}          # stream key (host) -> event
        self.window = False
        self.idle = 0
        self.stats = stats if stats is not None else {}
        self.stats.setdefault('skipped', 0)
        self.stats.setdefault('errors', 0)
        self.last_cursor = None
        self.base_offset = 0
        self.pos = 0
        self._row_target = None
        self.last_started = None
        self._memo = None
        self._memo_start = None
        self._recent_victims = {}
        self._us_context = None
        self._open_comm = {}
        # the last kernel line fed that meant nothing (the first part of a record with a newline)
        self._held = None
        # the head of the last line unwrapped in full (head_of)
        self._head = None

    # ---- public -----------------------------------------------------------------------------

    def feed(self, raw, lineno, prefiltered=False):
        if self.window and not prefiltered and not self._open_comm:
            test = raw if isinstance(raw, (bytes, bytearray)) else raw.encode('utf-8', 'replace')
            if not _interesting(test):
                if self._row_target is not None and _RE_ROW_RAW.search(test):
                    # a task table row: kept raw, parsed only when needed (include_tasks, or the
                    # victim's oom_score_adj is missing from the kill line)
                    rows = self._row_target['_raw_rows']
                    if len(rows) < MAX_TASK_ROWS:
                        rows.append(bytes(test))
                    self._row_target['_last_line'] = lineno
                    self.idle = 0
                    return self.window
                self._held = (raw, lineno)
                return self._idle()
        memo = self._memo
        if memo is not None and memo[0] == raw:
            w = memo[1]
            self._memo = None
        elif self._memo_start is not None and self._memo_start[0] == raw:
            w = self._memo_start[1]
            self._memo_start = None
        else:
            if isinstance(raw, (bytes, bytearray)):
                text = raw.decode('utf-8', 'replace')
            else:
                text = raw
            w = self._unwrap_text(text)
        if w.cursor:
            self.last_cursor = w.cursor
        if w.program is not None and w.program != KERNEL:
            self.stats['skipped'] += 1
            self._held = None
            return self._idle()
        held = self._held
        self._held = None
        aligned = _RE_ALIGNED.match(w.msg) if w.uptime is None and w.fmt != 'bare' and held is not None else None
        if held is not None and not isinstance(held[0], Wrapped) and \
                (w.fmt == 'bare' or aligned is not None or w.uptime is not None and 'invoked oom' in w.msg):
            hraw = held[0]
            held = (unwrap_line(hraw.decode('utf-8', 'replace') if isinstance(hraw, (bytes, bytearray)) else hraw,
                                self.ref_epoch), held[1])
        if held is not None and 'invoked oom' in w.msg and w.uptime is not None and isinstance(held[0], Wrapped) and \
                held[0].uptime == w.uptime and held[0].host == w.host and held[0].fmt == w.fmt and \
                'invoked oom' not in held[0].msg and _could_be_comm_part(held[0].msg):
            # /proc/kmsg (rsyslog imklog) splits a record holding a newline into lines of the same stamp
            w = Wrapped(held[0].msg + '\n' + w.msg, program=held[0].program, host=held[0].host, uptime=w.uptime,
                        epoch=held[0]._epoch, fmt=w.fmt)  # pylint: disable=protected-access
            lineno = held[1]
        elif aligned is not None and isinstance(held[0], Wrapped) and held[0].uptime is not None and \
                held[0].fmt == w.fmt:
            # a console's prefix, then the rest of the record aligned under its text
            w = Wrapped(held[0].msg + '\n' + w.msg[aligned.end():], program=held[0].program, host=held[0].host,
                        uptime=held[0].uptime, epoch=held[0]._epoch, fmt=held[0].fmt)  # pylint: disable=protected-access
            lineno = held[1]
        elif held is not None and w.fmt == 'bare' and w.msg[:8].isspace() and w.msg.strip() and \
                isinstance(held[0], Wrapped):
            # dmesg and journalctl print the rest of a record holding a newline (a name with
            # one) aligned under its text: one record with the line before
            w = Wrapped(held[0].msg + '\n' + w.msg.strip(), program=held[0].program, host=held[0].host,
                        uptime=held[0].uptime, epoch=held[0]._epoch, fmt=held[0].fmt)  # pylint: disable=protected-access
            lineno = held[1]
        recognised = False
        if '\\x' in w.msg and w.fmt != 'kmsg' and _RE_KMSG_ESC.search(w.msg):
            w.msg = kmsg_unescape(w.msg)
        parts = _unescape(w.msg)
        if len(parts) > 1:
            joined = '\n'.join(parts)
            if 'invoked oom' in joined or 'Killed process' in joined or 'oom-kill:' in joined or \
                    'ill process' in joined or 'oom_reaper:' in joined:
                # rsyslog escaped a newline inside one kernel line (a name holding one): keep it whole
                first = parts[0]
                if 'invoked oom' not in first and 'Killed process' not in first and 'oom-kill:' not in first:
                    parts = [joined]
        for part in parts:
            if part is not w.msg:
                up, part = _strip_uptime(part.lstrip())
                if up is not None:
                    w.uptime = up
            try:
                if self._line(part, w, lineno):
                    recognised = True
            except Exception:  # pylint: disable=broad-except
                self.stats['errors'] += 1
        if recognised:
            self.idle = 0
        else:
            if len(w.msg) < 200:
                self._held = (w, lineno)
            return self._idle()
        return self.window

    def _unwrap_text(self, text):
        """``unwrap_line(text)``; the lines of one report share their head (``head_of``): only the
        first is unwrapped in full."""
        head = self._head
        if head is not None:
            w = unwrap_after_head(text, head)
            if w is not None:
                return w
        w = unwrap_line(text, self.ref_epoch)
        self._head = head_of(text, w)
        return w

    def peek(self, raw):
        """Unwrap a raw line ahead of feeding it (the result is reused by the next feed of it)."""
        w = self._unwrap_text(bytes(raw).decode('utf-8', 'replace'))
        self._memo = (raw, w)
        return w

    def starts_report_of(self, cand, kw):
        """True when raw line ``cand`` is a kernel "invoked oom" line of the same host as the
        unwrapped kill line ``kw`` (used to search a report's start back from its kill line)."""
        try:
            cw = self._unwrap_text(cand.decode('utf-8', 'replace'))
            if cw.program is not None and cw.program != KERNEL:
                return False
            if not any(_RE_INVOKED.match(part.lstrip() if part is not cw.msg else part)
                       for part in _unescape(cw.msg) if 'invoked oom' in part):
                return False
            if (cw.host or '') != (kw.host or ''):
                return False
            # the region feed starts with this line: its unwrap is reused there
            self._memo_start = (bytes(cand), cw)
            return True
        except Exception:  # pylint: disable=broad-except
            return False

    def hand_over(self, lines_read):
        """End of one file of a rotated log: give up the events still open (a report that the
        rotation cut in two goes on at the start of the next file) instead of emitting them.
        ``lines_read``: lines of this file, so that line distances stay right in the next one."""
        carried = []
        for key in list(self.open):
            ev = self.open.pop(key)
            ev['_last_line'] -= lines_read
            ev['_rows_open'] = ev is self._row_target
            carried.append(ev)
        self._row_target = None
        self.window = False
        return carried

    def adopt(self, carried):
        """Take over events handed over by the parser of the previous file (see hand_over)."""
        for ev in carried:
            self._finish(ev['host'] or '')
            ev['_ev_rel'] = None if ev.get('_ev_rel') is None else tuple(ev['_ev_rel'])
            self.open[ev['host'] or ''] = ev
            if ev.pop('_rows_open', False):
                self._row_target = ev
            self.window = True
            self.idle = 0

    def close(self):
        """End of input: emit everything still open."""
        for key in list(self.open):
            self._finish(key)
        self.window = False

    # ---- userspace killers ------------------------------------------------------------------

    def userspace(self, buf, ls, le, lineno):
        """A candidate kill line of a userspace OOM killer at ``buf[ls:le]`` (line ``lineno``);
        the bytes before ``ls`` in ``buf`` are context (nohang prints its victim before)."""
        if self.emit_userspace is None:
            return
        try:
            uev = parse_userspace_line(bytes(buf[ls:le]), self.ref_epoch, lambda: _context_before(buf, ls))
        except Exception:  # pylint: disable=broad-except
            self.stats['errors'] += 1
            return
        if uev is not None:
            uev['source'] = self.source
            uev['sources'] = [self.source]
            uev['line'] = lineno
            self.emit_userspace(uev)

    # ---- internals --------------------------------------------------------------------------

    def _idle(self):
        if self.window:
            self.idle += 1
            if self.idle > WINDOW_IDLE_LINES:
                self.window = False
                self.idle = 0
            else:
                # the window stays open while some event still wants lines: one without its kill
                # line yet, or one reading the few lines after it (oom_reaper, group kills)
                wants = False
                for ev in self.open.values():
                    tail = ev['_tail']
                    if tail is None:
                        wants = True
                    elif tail > 0:
                        ev['_tail'] = tail - 1
                        if tail > 1:
                            wants = True
                self.window = wants
        return self.window

    def _finish(self, key):
        ev = self.open.pop(key, None)
        if ev is not None:
            if ev['killed_pid'] is not None:
                self._recent_victims[(key, ev['killed_pid'])] = True
                for g in ev['group_killed'] or ():
                    self._recent_victims[(key, g['pid'])] = True
                while len(self._recent_victims) > 256:
                    del self._recent_victims[next(iter(self._recent_victims))]
            self.emit(finalize_event(ev, self.boot_epoch, self.include_tasks))

    def _start(self, key, lineno, w):
        self._finish(key)
        ev = _new_event(self.source, lineno, w)
        ev['_start_offset'] = self.base_offset + self.pos
        self._row_target = None
        self.open[key] = ev
        self.window = True
        self.idle = 0
        self.last_started = ev
        return ev

    def _current(self, key, lineno, w, need_no_victim=False):
        ev = self.open.get(key)
        if ev is not None:
            if lineno - ev['_last_line'] > ATTACH_DISTANCE:
                ev = None
            elif need_no_victim and ev['killed_pid'] is not None:
                ev = None
        if ev is None:
            ev = self._start(key, lineno, w)
        ev['_last_line'] = lineno
        if ev['uptime'] is None and w.uptime is not None:
            ev['uptime'] = w.uptime
        if ev['_epoch'] is None and w.epoch is not None:
            ev['_epoch'] = w.epoch
        if ev['host'] is None and w.host:
            ev['host'] = w.host
        return ev

    def _line(self, msg, w, lineno):  # noqa: C901  (one dispatcher, kept flat on purpose)
        key = w.host or ''
        # 1. invoked line: always starts a new event
        if 'invoked oom' in msg:
            m = _RE_INVOKED.match(msg)
            if m:
                ev = self._start(key, lineno, w)
                ev['_has_invoked'] = True
                ev['invoker'] = m.group('comm').strip() or None
                self._invoked_tokens(ev, m.group('rest'))
                if ev['order'] == -1:
                    # drivers/tty/sysrq.c moom_callback: out_of_memory() with order -1
                    ev['sysrq'] = True
                return True
        pending = None
        if self._open_comm:
            pending = self._open_comm.pop(key, None)
            if pending is None and w.host is None and msg[:1].isspace():
                # journalctl prints the rest of a multi-line message indented, without a host
                pending = self._open_comm.pop(next(iter(self._open_comm)))
            # the rest of a cut name is the very next line or nothing
            self._open_comm.clear()
        if pending is not None:
            cont = msg.lstrip()
            am = _RE_ALIGNED.match(msg)
            if am:
                cont = msg[am.end():]
            cm = _RE_COMM_REST.match(cont)
            if cm:
                # the rest of a kill line cut inside the victim's name
                ev = pending[0]
                ev['killed_comm'] = ev['killed_comm'] + '\n' + cm.group('comm')
                self._kill_fields(ev, cm.group('rest') or '')
                _mark(ev, lineno)
                return True
        if 'Killed process' in msg:
            m = _RE_KILLED.search(msg)
            if m:
                self._killed(key, lineno, w, m, msg)
                return True
            m = _RE_KILLED_OPEN.search(msg)
            if m:
                # the kill is not lost whatever follows: the name so far, completed by the next line
                ev = self._killed(key, lineno, w, m, msg)
                if ev is not None:
                    self._open_comm[key] = (ev, m)
                return True
        ev = self.open.get(key)
        if 'oom-kill:' in msg:
            m = _RE_OOMKILL.search(msg)
            if m:
                ev = self._current(key, lineno, w, need_no_victim=True)
                self._oomkill_tokens(ev, m.group('rest'))
                _mark(ev, lineno)
                return True
        if 'ill process' in msg:
            m = _RE_SELECT.search(msg)
            if m:
                ev = self._current(key, lineno, w, need_no_victim=True)
                ev['_selected'] = (int(m.group('pid')), m.group('comm'))
                ev['extra']['score'] = int(m.group('score'))
                _mark(ev, lineno)
                if 'Memory cgroup out of memory' in msg:
                    ev['_memcg_kill'] = True
                    ev['_kill_prefix'] = 'Memory cgroup out of memory'
                elif msg.startswith('Out of memory'):
                    ev['_kill_prefix'] = msg.split(':', 1)[0]
                return True
        if msg.startswith('oom_reaper:'):
            m = _RE_REAPER.search(msg)
            if m:
                pid = int(m.group('pid'))
                if ev is not None and ev['killed_pid'] in (pid, None):
                    ev['reaped'] = True
                    if ev['killed_pid'] is None:
                        ev['killed_pid'] = pid
                        ev['killed_comm'] = m.group('comm')
                elif ev is not None and any(g['pid'] == pid for g in ev['group_killed'] or ()):
                    # a task of a memory.oom.group kill reaped: part of that event
                    pass
                elif (key, pid) in self._recent_victims:
                    # the victim of an event already finished (the reaper runs late)
                    pass
                else:
                    ev = self._start(key, lineno, w)
                    ev['reaped'] = True
                    ev['killed_pid'] = pid
                    ev['killed_comm'] = m.group('comm')
                    self.window = False
                return True
        m = _RE_MEMUSAGE.match(msg) if ' usage' in msg and ev is not None else None
        if m:
            # a context line: never opens an event by itself
            ev = self._current(key, lineno, w, need_no_victim=True)
            kind = m.group('kind')
            usage = int(m.group('usage'))
            limit = int(m.group('limit'))
            if kind == 'memory':
                ev['memcg_usage_kb'] = usage
                ev['memcg_limit_kb'] = limit
                if m.group('failcnt') is not None:
                    ev['failcnt'] = int(m.group('failcnt'))
                _mark(ev, lineno)
            elif kind in ('memory+swap', 'swap'):
                ev['memsw_usage_kb'] = usage
                ev['memsw_limit_kb'] = limit
            else:
                ev['extra'][kind.replace('.', '_') + '_usage_kb'] = usage
                ev['extra'][kind.replace('.', '_') + '_limit_kb'] = limit
            return True
        if ev is None:
            # context lines only matter inside an event
            if 'Task in ' in msg:
                m = _RE_TASKIN.search(msg)
                if m:
                    ev = self._current(key, lineno, w, need_no_victim=True)
                    ev['task_memcg'] = m.group('task')
                    ev['memcg'] = m.group('memcg')
                    _mark(ev, lineno)
                    return True
            if _is_terminal(msg):
                ev = self._current(key, lineno, w, need_no_victim=True)
                self._terminal(ev, msg)
                _mark(ev, lineno)
                return True
            if 'memory.oom.group' in msg:
                m = _RE_GROUP.search(msg)
                if m:
                    # the group line without the first victim's kill line before it
                    ev = self._current(key, lineno, w)
                    ev['oom_group'] = True
                    ev['extra']['oom_group_path'] = m.group('path')
                    _mark(ev, lineno)
                    return True
            return False
        ev['_last_line'] = lineno
        if 'memory.oom.group' in msg:
            # printed after the first victim's kill line: the kill lines after it are one event
            m = _RE_GROUP.search(msg)
            if m:
                ev['oom_group'] = True
                ev['extra']['oom_group_path'] = m.group('path')
                if ev['_tail'] is not None:
                    ev['_tail'] = TAIL_LINES
                _mark(ev, lineno)
                return True
        if ev['_tail'] is not None:
            return False
        if 'Task in ' in msg:
            m = _RE_TASKIN.search(msg)
            if m:
                ev['task_memcg'] = m.group('task')
                ev['memcg'] = m.group('memcg')
                _mark(ev, lineno)
                return True
        if msg.startswith('Memory cgroup stats for'):
            m = _RE_STATS.match(msg)
            if m and ev['_stats_path'] is None:
                ev['_stats_path'] = m.group('path') or '/'
            return True
        if msg.startswith('CPU:'):
            m = _RE_CPU.match(msg)
            if m and ev['invoker_pid'] is None:
                ev['invoker_pid'] = int(m.group('pid'))
            return True
        if msg.startswith('Node '):
            m = _RE_NODE.match(msg)
            if m:
                ev['_nodes'].append((int(m.group('node')), m.group('zone'), int(m.group('free')), int(m.group('min'))))
                ev['_show_mem'] = True
                if int(m.group('free')) < int(m.group('min')):
                    _mark(ev, lineno)
                return True
            m = _RE_BUDDY.match(msg)
            if m:
                ev['_buddy'][(int(m.group('node')), m.group('zone'))] = [
                    (int(c), int(s)) for c, s in _RE_BUDDY_ITEM.findall(m.group('list'))]
                return True
            return False
        if msg.startswith('Tasks state'):
            return True
        if msg[:1] == '[':
            hm = _RE_TASKS_HDR.match(msg)
            if hm:
                ev['_task_cols'] = hm.group('cols').split()
                self._row_target = ev
                return True
            m = _RE_TASK_ROW.match(msg)
            if m:
                self._task_row(ev, int(m.group('pid')), m.group('rest'))
                return True
            return False
        if 'cpuset=' in msg:
            m = _RE_CPUSET.search(msg)
            if m:
                ev['cpuset'] = m.group('cpuset')
                ev['mems_allowed'] = m.group('mems')
                return True
        if _is_terminal(msg):
            self._terminal(ev, msg)
            _mark(ev, lineno)
            return True
        if msg.startswith('Mem-Info'):
            # lib/show_mem.c / mm/show_mem.c: printed for OOMs outside a memory cgroup (3.10+)
            ev['_show_mem'] = True
            _mark(ev, lineno)
            return True
        if 'active_anon:' in msg or 'oom' in msg or 'emory' in msg:
            return True
        return False

    def _terminal(self, ev, msg):
        if 'panic' in msg or 'not syncing' in msg or 'deadlocked on memory' in msg:
            ev['panic'] = True
        if 'no killable' in msg:
            ev['no_killable'] = True

    def _invoked_tokens(self, ev, rest):
        for k, v in _tokens(rest):
            if k == 'gfp_mask' and isinstance(v, str):
                g = _RE_GFP.match(v)
                if g:
                    ev['gfp_mask'] = g.group(1)
                    ev['gfp_flags'] = g.group(2) if g.group(2) else None
                else:
                    ev['gfp_mask'] = v
            elif k == 'order':
                ev['order'] = _int_or_none(v)
            elif k == 'oom_score_adj':
                ev['oom_score_adj'] = _int_or_none(v)
            elif k == 'nodemask':
                ev['nodemask'] = v
            elif v is True:
                ev['extra'].setdefault('invoked_flags', []).append(k)
            else:
                ev['extra'][k] = _num(v)

    def _oomkill_tokens(self, ev, rest):
        last = None
        for k, v in _tokens(rest, _RE_COMMA):
            if v is True:
                if last is not None and _RE_NUMERIC_WORD.match(k):
                    # a list value with commas, e.g. mems_allowed=0,2
                    ev[last] = '%s,%s' % (ev[last], k) if last in ev else k
                    continue
                if k == 'global_oom':
                    ev['extra']['global_oom'] = True
                else:
                    ev['extra'].setdefault('oom_kill_flags', []).append(k)
                continue
            field = _OOMKILL_FIELDS.get(k)
            if field:
                ev[field] = v
                last = field
            elif k == 'task':
                ev['_oomkill_task'] = v
                last = None
            elif k == 'pid':
                ev['_oomkill_pid'] = _int_or_none(v)
                last = None
            elif k == 'uid':
                ev['extra']['oom_kill_uid'] = _int_or_none(v)
                last = None
            else:
                ev['extra'][k] = _num(v)
                last = None
        ev['_has_oomkill'] = True

    @staticmethod
    def _task_row(ev, pid, rest):
        cols = ev['_task_cols'] or []
        parts = rest.split()
        row = {'pid': pid}
        if cols and len(cols) >= 2:
            ncols = len(cols)
            # last column (name) may hold spaces
            vals = parts[:ncols - 1] + [' '.join(parts[ncols - 1:])] if len(parts) >= ncols else parts
            for name, val in zip(cols, vals):
                row[name] = _num(val) if name != 'name' else val
        else:
            row['raw'] = rest
        ev['_rows'][pid] = row

    def _killed(self, key, lineno, w, m, msg):
        pid = int(m.group('pid'))
        comm = m.group('comm')
        ev = self.open.get(key)
        if ev is not None and ev['killed_pid'] is not None:
            near = ev.get('_kill_uptime') is None or w.uptime is None or abs(w.uptime - ev['_kill_uptime']) <= 5.0
            if ev['oom_group'] and lineno - ev['_last_line'] <= ATTACH_DISTANCE and near:
                # memory.oom.group: every task of the cgroup killed by the same decision; the scan of
                # the group kills (and prints) the first victim once more (seen on 6.1 in the VM)
                if pid != ev['killed_pid'] and not any(g['pid'] == pid for g in ev['group_killed'] or ()):
                    ev['group_killed'] = (ev['group_killed'] or []) + [{'pid': pid, 'comm': comm}]
                ev['_last_line'] = lineno
                ev['_tail'] = TAIL_LINES
                return
            ev = None
        if ev is None or lineno - ev['_last_line'] > ATTACH_DISTANCE:
            ev = self._start(key, lineno, w)
        ev['_last_line'] = lineno
        if ev['uptime'] is None and w.uptime is not None:
            ev['uptime'] = w.uptime
        if ev['_epoch'] is None and w.epoch is not None:
            ev['_epoch'] = w.epoch
        if ev['host'] is None and w.host:
            ev['host'] = w.host
        ev['killed_pid'] = pid
        ev['killed_comm'] = comm
        ev['_kill_uptime'] = w.uptime
        _mark(ev, lineno)
        if m.group('uid') is not None:
            ev['killed_uid'] = int(m.group('uid'))
        prefix = msg[:m.start()].strip().rstrip(':').strip()
        if prefix:
            ev['_kill_prefix'] = prefix
            if 'Memory cgroup' in prefix or 'memory cgroup' in prefix:
                ev['_memcg_kill'] = True
        self._kill_fields(ev, m.groupdict().get('rest') or '')
        ev['_tail'] = TAIL_LINES
        return ev

    @staticmethod
    def _kill_fields(ev, rest):
        um = _RE_UID.search(rest)
        if um:
            ev['killed_uid'] = int(um.group(1))
        # only key:value tokens count on a kill line; one findall instead of split-then-match
        for k, v in _RE_KV_ANYWHERE.findall(rest):
            field = _KILL_KEYS.get(k)
            if field:
                ev[field] = _int_or_none(v)
            elif k != 'UID':
                ev['extra'][k.replace('-', '_')] = _num(v)


def _context_before(buf, ls, size=16384):
    lo = max(0, ls - size)
    return bytes(buf[lo:ls]).decode('utf-8', 'replace').split('\n')[1 if lo else 0:]


# systemd src/oom/oomd-manager.c: "Killed %s due to memory pressure for %s being %lu.%02lu%% > ..."
# and "Killed %s due to swap used (%PRIu64) / total (%PRIu64) being more than ..."
_RE_OOMD = re.compile(r'^Killed (?P<cg>/\S*) due to (?P<why>memory pressure|swap used|memory used|\S+)(?P<rest>.*)$')
_RE_OOMD_MON = re.compile(r' for (?P<mon>/\S*) being (?P<being>\S+ > \S+)')
# earlyoom kill.c: 'sending %s to process %d uid %d "%s": badness %d, VmRSS %lld MiB' (fields after
# the name vary by version: oom_score, oom_score_adj, badness, VmRSS, cmdline)
_RE_EARLYOOM = re.compile(r'sending (?P<sig>SIG[A-Z0-9]+|\S+) to process (?P<pid>\d+) uid (?P<uid>\d+) '
                          r'"(?P<comm>.*?)": (?P<rest>(?:badness|oom_score) .*)$')
_RE_EARLYOOM_LOW = re.compile(r'low memory! at or below (?P<sig>SIG\w+) limits: (?P<limits>.*)$')
# nohang src/nohang: "Victim status (found in Nms):\n  PID: N, name: X, state: ..." ...
# "Implementing a corrective action:\n  Sending SIGTERM to the victim"
_RE_NOHANG_PID = re.compile(r'PID:\s+(?P<pid>\d+), name: (?P<comm>.*?), state: ')
_RE_NOHANG_CG = re.compile(r'cgroup_v(?P<v>[12]): (?P<cg>\S*)')
_RE_NOHANG_SIG = re.compile(r'Sending (?P<sig>SIG\w+) to the victim')


def _killer_of(program):
    """The userspace killer a wrapper's program name stands for (journal: ``name(transport)``)."""
    if not program:
        return None
    name = program.split('(', 1)[0]
    return name if name in USERSPACE_KILLERS else None


def _unit_of(cgroup):
    tail = (cgroup or '').rstrip('/').rsplit('/', 1)[-1]
    return tail if tail.endswith(('.service', '.scope', '.slice', '.socket', '.mount')) else None


def parse_userspace_line(raw, ref_epoch=None, before=None):
    """A userspace killer's kill line -> a userspace event dict (without source/line), or None.

    The line must come from systemd-oomd, earlyoom or nohang (program name of the wrapper), or
    from a wrapper that names no program (``journalctl -o cat``): then its shape tells the killer.
    ``before``: a callable giving the lines before it (nohang prints its victim first).
    """
    text = raw.decode('utf-8', 'replace') if isinstance(raw, (bytes, bytearray)) else raw
    w = unwrap_line(text, ref_epoch)
    killer = _killer_of(w.program)
    if killer is None and w.program is not None and w.fmt not in ('bare', 'json-lines'):
        # another program's line (a kernel-tagged one included: no userspace killer writes as kernel)
        return None
    msg = w.msg.strip()
    uev = dict.fromkeys(USERSPACE_FIELDS)
    uev['host'] = w.host
    uev['_epoch'] = w.epoch
    m = _RE_OOMD.match(msg) if msg.startswith('Killed /') else None
    if m and killer in (None, 'systemd-oomd'):
        why = m.group('why')
        uev.update(killer='systemd-oomd', cgroup=m.group('cg'), unit=_unit_of(m.group('cg')),
                   reason='memory_pressure' if why == 'memory pressure' else 'swap' if why.startswith('swap')
                   else why.strip().replace(' ', '_') or None,
                   signal='SIGKILL', detail=msg[len('Killed ') + len(m.group('cg')) + 1:])
        mm = _RE_OOMD_MON.search(m.group('rest'))
        if mm:
            uev['detail'] = 'monitored %s: %s' % (mm.group('mon'), mm.group('being'))
        return uev
    m = _RE_EARLYOOM.search(msg)
    if m and killer in (None, 'earlyoom'):
        uev.update(killer='earlyoom', victim_pid=int(m.group('pid')), victim_comm=m.group('comm'),
                   signal=m.group('sig'), reason='low_memory_and_swap', detail=m.group('rest'))
        for line in reversed((before() if before else [])[-20:]):
            lm = _RE_EARLYOOM_LOW.search(line)
            if lm:
                uev['detail'] = 'at or below %s limits: %s; %s' % (lm.group('sig'), lm.group('limits'), m.group('rest'))
                break
        return uev
    sm = _RE_NOHANG_SIG.search(msg) if 'to the victim' in msg else None
    if sm and killer in (None, 'nohang'):
        uev.update(killer='nohang', reason=None, signal=sm.group('sig'))
        lines = (before() if before else [])[-80:]
        start = None
        for i in range(len(lines) - 1, -1, -1):
            if 'Victim status' in lines[i]:
                start = i
                break
        if start is not None:
            for line in lines[start:]:
                pm = _RE_NOHANG_PID.search(line)
                if pm:
                    uev['victim_pid'] = int(pm.group('pid'))
                    uev['victim_comm'] = pm.group('comm')
                cm = _RE_NOHANG_CG.search(line)
                if cm and cm.group('cg'):
                    if cm.group('v') == '2' or not uev['cgroup']:
                        uev['cgroup'] = cm.group('cg')
            reason_lines = lines[:start]
        else:
            reason_lines = lines
        for i in range(len(reason_lines) - 1, -1, -1):
            if 'requires corrective actions' in reason_lines[i]:
                tail = ' '.join(reason_lines[i + 1:i + 4])
                uev['reason'] = ('pressure' if 'PSI' in tail else 'zram' if 'zram' in tail.lower()
                                 else 'low_memory_and_swap' if 'SwapFree' in tail else 'low_memory')
                uev['detail'] = tail.strip()[:300] or None
                break
        uev['unit'] = _unit_of(uev['cgroup'])
        return uev
    return None


def finalize_event(ev, boot_epoch=None, include_tasks=False):
    """Fill derived fields and the cause; drop private keys."""
    if ev['killed_pid'] is None:
        if ev.get('_oomkill_pid') is not None:
            ev['killed_pid'] = ev['_oomkill_pid']
            ev['killed_comm'] = ev.get('_oomkill_task')
        elif ev.get('_selected'):
            ev['killed_pid'], ev['killed_comm'] = ev['_selected']
    elif ev.get('_oomkill_pid') is not None and ev['_oomkill_pid'] != ev['killed_pid']:
        ev['extra']['oom_kill_pid'] = ev['_oomkill_pid']
    if ev.get('_raw_rows') and (include_tasks or (ev['killed_oom_score_adj'] is None and ev['killed_pid'] is not None)):
        _parse_raw_rows(ev)
    rows = ev.get('_rows') or {}
    if ev['killed_oom_score_adj'] is None and ev['killed_pid'] in rows:
        adj = rows[ev['killed_pid']].get('oom_score_adj')
        if isinstance(adj, int):
            ev['killed_oom_score_adj'] = adj
    if ev['killed_uid'] is None and isinstance(ev['extra'].get('oom_kill_uid'), int) and \
            ev.get('_oomkill_pid') == ev['killed_pid']:
        ev['killed_uid'] = ev['extra']['oom_kill_uid']
    if include_tasks:
        ev['tasks'] = list(rows.values())
    if ev.get('_epoch') is None and boot_epoch is not None and ev['uptime'] is not None:
        ev['_epoch'] = boot_epoch + ev['uptime']
    # ev['time'] (local ISO 8601) is written by public_event: only for the events returned
    classify_event(ev)
    return ev


def _parse_raw_rows(ev):
    """Parse the task table rows kept raw by the scan (same host as the event only)."""
    host = ev['host'] or ''
    for raw in ev['_raw_rows']:
        w = unwrap_line(raw.decode('utf-8', 'replace'))
        if (w.program is not None and w.program != KERNEL) or (w.host or '') != host:
            continue
        m = _RE_TASK_ROW.match(w.msg)
        if m:
            OomParser._task_row(ev, int(m.group('pid')), m.group('rest'))  # pylint: disable=protected-access
    ev['_raw_rows'] = []


def complete_event(ev):
    """Finish an event found in fast mode: parse the rest of its report (kept raw) and merge."""
    region = ev.pop('_region', None)
    cfg = ev.pop('_cfg', (False, None, None))
    if not region:
        return ev
    include_tasks, ref_epoch, boot_epoch = cfg
    out = []
    p = OomParser(ev['source'], out.append, include_tasks=include_tasks, ref_epoch=ref_epoch, boot_epoch=boot_epoch)
    lineno = ev['line']
    buf = bytearray(region)
    buf.append(0)  # the spare byte of the needle search
    _feed_region(buf, 0, len(region), lineno - 1, p)
    p.close()
    full = None
    for cand in out:
        if cand['line'] == lineno:
            full = cand
            break
    if full is None:
        return ev
    if full.get('_raw_rows'):
        _parse_raw_rows(full)
    skip = ('source', 'sources', 'line', 'cause', 'confidence', 'evidence', 'time', 'extra', 'tasks', 'verified',
            'evidence_lines')
    for k in EVENT_FIELDS:
        if k in skip:
            continue
        if ev.get(k) is None or ev.get(k) is False:
            if full.get(k) is not None and full.get(k) is not False:
                ev[k] = full[k]
    for k, v in (full.get('extra') or {}).items():
        ev['extra'].setdefault(k, v)
    for k in ('_nodes', '_buddy', '_rows'):
        if full.get(k) and not ev.get(k):
            ev[k] = full[k]
    if ev.get('_stats_path') is None:
        ev['_stats_path'] = full.get('_stats_path')
    if full.get('_show_mem'):
        ev['_show_mem'] = True
    if isinstance(ev.get('_ev_rel'), list) and full.get('_ev_rel'):
        ev['_ev_rel'] = sorted(set(ev['_ev_rel']) | set(full['_ev_rel']))[:32]
    rows = ev.get('_rows') or {}
    if ev['killed_oom_score_adj'] is None and ev['killed_pid'] in rows:
        adj = rows[ev['killed_pid']].get('oom_score_adj')
        if isinstance(adj, int):
            ev['killed_oom_score_adj'] = adj
    if include_tasks:
        ev['tasks'] = list(rows.values())
    ev['evidence'] = [x for x in ev['evidence'] if x.startswith('live cgroup tree')]
    enriched = list(ev['evidence'])
    cause, conf = ev['cause'], ev['confidence']
    ev['evidence'] = []
    classify_event(ev)
    if enriched:
        # keep the live-tree refinement made when the event was collected
        ev['cause'], ev['confidence'] = cause, conf
        ev['evidence'].extend(enriched)
    return ev


def _iso(epoch):
    if epoch is None:
        return None
    try:
        dt = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).astimezone()
        return dt.isoformat(timespec='microseconds' if epoch % 1 else 'seconds')
    except (ValueError, OverflowError, OSError):
        return None


def classify_event(ev):
    """Apply the cause rules of oom-events.md; sets cause, confidence and evidence."""
    evidence = ev['evidence']
    memcg_ev = []
    if ev.get('_memcg_kill'):
        memcg_ev.append('kill line says "Memory cgroup out of memory"')
    if ev['memcg']:
        memcg_ev.append('limit hit in cgroup %s' % ev['memcg'])
    if ev['memcg_limit_kb'] is not None:
        memcg_ev.append('memory: usage %skB, limit %skB' % (ev['memcg_usage_kb'], ev['memcg_limit_kb']))
    if ev['constraint'] == 'CONSTRAINT_MEMCG':
        memcg_ev.append('constraint=CONSTRAINT_MEMCG')
    constraint = ev['constraint']
    order = ev['order']
    below_min = ['node %d %s free:%dkB < min:%dkB' % n for n in ev.get('_nodes', []) if n[2] < n[3]]
    if below_min:
        ev['nodes_below_min'] = sorted(set(int(x.split()[1]) for x in below_min))
    cause = None
    confidence = 'high'
    prefix = ev['_kill_prefix'] or ''
    global_ev = []
    if constraint:
        global_ev.append('constraint=%s' % constraint)
    elif ev['extra'].get('global_oom'):
        global_ev.append('global_oom')
    if prefix.startswith('Out of memory'):
        global_ev.append('kill line says "%s" (mm/oom_kill.c prints it for OOMs outside a memory cgroup)' % prefix)
    if ev['panic'] and not memcg_ev:
        global_ev.append('kernel panicked on OOM (panic_on_oom or nothing killable: never for a memory cgroup)')
    if ev.get('_show_mem'):
        global_ev.append('Mem-Info / per-node free lines (show_mem: printed when no memory cgroup is at its limit)')
    if ev.get('sysrq'):
        cause = 'manual'
        evidence.append('order=-1: an OOM kill asked for with sysrq f (drivers/tty/sysrq.c), not a lack of memory')
    elif memcg_ev:
        evidence.extend(memcg_ev)
        if ev['memcg'] is None and ev.get('_stats_path'):
            ev['memcg'] = ev['_stats_path']
            evidence.append('cgroup taken from "Memory cgroup stats for %s"' % ev['_stats_path'])
        if constraint == 'CONSTRAINT_NONE':
            evidence.append('constraint=CONSTRAINT_NONE ignored: memcg evidence wins')
        if ev['memcg'] and ev['task_memcg']:
            if is_strict_ancestor(ev['memcg'], ev['task_memcg']):
                cause = 'parent_cgroup_limit'
                evidence.append('%s is an ancestor of the victim cgroup %s' % (ev['memcg'], ev['task_memcg']))
            else:
                cause = 'cgroup_limit'
                evidence.append('victim cgroup %s hit its own limit' % ev['task_memcg'])
        else:
            cause = 'cgroup_limit'
            confidence = 'medium'
            evidence.append('no victim cgroup path in the log: own or parent limit cannot be told apart')
    elif constraint == 'CONSTRAINT_MEMORY_POLICY':
        cause = 'numa_node_or_policy'
        evidence.append('constraint=CONSTRAINT_MEMORY_POLICY')
        if ev['nodemask'] and ev['nodemask'] != '(null)':
            evidence.append('nodemask=%s' % ev['nodemask'])
        evidence.extend(below_min)
    elif constraint == 'CONSTRAINT_CPUSET':
        cause = 'cpuset'
        evidence.append('constraint=CONSTRAINT_CPUSET')
        if ev['cpuset']:
            evidence.append('cpuset=%s mems_allowed=%s' % (ev['cpuset'], ev['mems_allowed']))
    elif global_ev:
        evidence.extend(global_ev)
        if isinstance(order, int) and order > 0:
            cause = 'fragmentation'
            evidence.append('order=%d allocation (%d contiguous pages)' % (order, 1 << min(order, 30)))
            frag = _buddy_evidence(ev.get('_buddy') or {}, order)
            if frag:
                evidence.append(frag)
        else:
            cause = 'system_memory'
            if order is not None:
                evidence.append('order=%s' % order)
            evidence.extend(below_min)
        if not constraint:
            confidence = 'medium'
            evidence.append('no oom-kill constraint line (kernel before 5.0 or filtered): '
                            'a cpuset or mempolicy OOM cannot be excluded')
        if order is None:
            confidence = 'low' if not ev.get('_has_invoked') else confidence
            evidence.append('no invoked line: the order of the failed allocation is unknown')
    else:
        cause = 'unknown'
        confidence = 'low'
        if ev['killed_pid'] is not None and not ev.get('_has_invoked'):
            evidence.append('kill line without the rest of the report')
        elif ev.get('_has_invoked'):
            evidence.append('report start without memory-cgroup or global-OOM evidence (the rest was cut)')
        else:
            evidence.append('fragment of a report without a victim')
    if ev['killed_pid'] is None and cause != 'unknown':
        if ev['no_killable']:
            evidence.append('no killable process')
        else:
            evidence.append('report truncated: no kill line')
        if confidence == 'high':
            confidence = 'medium'
    if ev['panic'] and not any('panicked' in x for x in evidence):
        evidence.append('kernel panicked on OOM')
    ev['cause'] = cause
    ev['confidence'] = confidence
    return ev


def _buddy_evidence(buddy, order):
    if not buddy:
        return None
    need = 4 << order
    big = 0
    for items in buddy.values():
        for count, size in items:
            if size >= need:
                big += count
    if big == 0:
        return 'free-area lists show no free block of %dkB or larger' % need
    return 'free-area lists show %d free blocks of %dkB or larger (fragmentation not confirmed)' % (big, need)


def public_event(ev):
    """A copy of the event without the parser's private keys."""
    out = {}
    for k, v in ev.items():
        if k[:1] != '_':
            out[k] = v
    if not out.get('extra'):
        out['extra'] = {}
    if out.get('time') is None:
        out['time'] = _iso(ev.get('_epoch'))
    rel = ev.get('_ev_rel')
    if isinstance(out.get('line'), int) and rel:
        out['evidence_lines'] = sorted(out['line'] + d for d in rel)
    elif out.get('evidence_lines') is None:
        out['evidence_lines'] = [out['line']] if isinstance(out.get('line'), int) else []
    return out


# --------------------------------------------------------------------------------------------
# scanning (the hot loop)
# --------------------------------------------------------------------------------------------

def count_newlines(buf, start, end):
    """Newlines in ``buf[start:end]``.

    ``bytes.count`` of one byte tests every byte in a plain loop; ``replace`` finds them with
    memchr, three to four times faster on log lines (about 120 against 450 us per MiB, the same
    on CPython 3.6 to 3.13), for the price of two short-lived copies of the range.  The line
    count of every block is most of what a scan costs when no report is near.
    """
    size = end - start
    if size < 4096:
        return buf.count(b'\n', start, end)
    part = buf if start == 0 and end == len(buf) else buf[start:end]
    return size - len(part.replace(b'\n', b''))


_STRSTR = []


def _strstr_call():
    """libc's ``strstr`` through ``ctypes``, as (strstr, ``c_char.from_buffer``, ``addressof``), or None.

    glibc's strstr is vectorised: on x86-64 it scans a GiB of log text for a needle whose first
    two bytes are rare in about 0.04 s, where ``bytes.find`` and ``re`` take 0.2 to 0.5 s per
    needle (bench/oom_log/README.md).  It needs a NUL-terminated string: ``_needle_offsets``
    writes a NUL at the end of the range and falls back to ``bytes.find`` for a range that holds
    a NUL of its own."""
    if _STRSTR:
        return _STRSTR[0]
    pair = None
    try:
        import ctypes  # pylint: disable=import-outside-toplevel
        strstr = ctypes.CDLL(None).strstr
        strstr.restype = ctypes.c_void_p
        strstr.argtypes = (ctypes.c_void_p, ctypes.c_char_p)
        char_at = ctypes.c_char.from_buffer
        addressof = ctypes.addressof
        probe = bytearray(b'xxoom-kill:x\0')
        anchor = char_at(probe)
        if strstr(addressof(anchor), b'oom-kill:') == addressof(anchor) + 2:
            pair = (strstr, char_at, addressof)
        del anchor
    except (ImportError, OSError, AttributeError, TypeError, ValueError):
        pair = None
    _STRSTR.append(pair)
    return pair


def _needle_offsets(buf, needles, lo, stop):
    """For each needle, the sorted offsets of its occurrences that start in ``buf[lo:stop]``.

    ``buf`` is a bytearray with at least one byte after ``stop`` (the scan keeps one spare):
    that byte is set to NUL for the search and restored."""
    call = _strstr_call()
    if call is None or stop >= len(buf) or buf.find(b'\0', lo, stop) >= 0:
        out = []
        find = buf.find
        for needle in needles:
            found = []
            i = find(needle, lo, stop)
            while i >= 0:
                found.append(i)
                i = find(needle, i + 1, stop)
            out.append(found)
        return out
    strstr, char_at, addressof = call
    saved = buf[stop]
    buf[stop] = 0
    anchor = char_at(buf)
    try:
        base = addressof(anchor)
        first = base + lo
        out = []
        for needle in needles:
            found = []
            p = strstr(first, needle)
            while p is not None:
                found.append(p - base)
                p = strstr(p + 1, needle)
            out.append(found)
        return out
    finally:
        del anchor
        buf[stop] = saved


_OPEN_NEEDLE_BYTES = tuple(needle for needle, _kind in OPEN_NEEDLES)
_OPEN_NEEDLE_KINDS = tuple(kind for _needle, kind in OPEN_NEEDLES)


def _hits(buf, lo, stop, ulo):
    """Sorted (offset, kind) of the anchors in ``buf[lo:stop]`` (userspace ones from ``ulo``).

    kind: ``K`` kill-type line ("Killed process", "Kill process", "Kernel panic": all start with
    ``K``, found with a memchr-speed search for that byte plus a prefix check), ``S`` report start
    ("invoked oom"), ``O`` other line that opens an event when none is open (``OPEN_NEEDLES``),
    ``U`` userspace killer line.  One search per needle: every shape in one scan.
    """
    find = buf.find
    starts = buf.startswith
    hits = []
    add = hits.append
    i = find(b'K', ulo, stop)
    while i >= 0:
        if starts(K_ANCHORS, i):
            if i >= lo:
                add((i, 'K'))
        elif starts(U_K_ANCHOR, i):
            add((i, 'U'))
        i = find(b'K', i + 1, stop)
    found = _needle_offsets(buf, _OPEN_NEEDLE_BYTES + (U_NEEDLE,), ulo, stop)
    for offsets, kind in zip(found, _OPEN_NEEDLE_KINDS):
        for i in offsets:
            if i < lo:
                continue
            if kind == 'S':
                # "invoked oom-killer:" (and "invoked oom:" in some excerpts) starts a report
                add((i - 2, 'S') if i >= 2 and buf[i - 2:i] == START_ANCHOR[:2] else (i, 'O'))
            else:
                add((i, kind))
    match_u = _RE_SCAN_U.match
    after = -1
    for i in found[-1]:
        if i >= after:
            m = match_u(buf, i, stop)
            if m is not None:
                add((i, 'U'))
                after = m.end()
    hits.sort()
    return hits


def _walk_block(buf, start, end, base_line, parser, limit, consumed):
    """Process the lines of ``buf[start:end]``; ``buf[0:start]`` is look-back (lines of the
    previous block, already counted: context of userspace killers' multi-line reports).

    The line starting at ``start`` is line ``base_line + 1``.  Anchors are only taken below
    ``limit``; a window left open reads on.  Nothing before ``consumed`` is walked again.
    A report start followed by its kill line (same host, no other report start between) is read
    from the start to the kill line by keyword (``_feed_region``); any other anchor is read line
    by line from its line until its event wants no more lines.  Every shape is always searched.
    Returns (walked_to, cur_pos, cur_line) with ``cur_line`` = base_line + newlines in
    ``buf[start:cur_pos]`` (negative direction when cur_pos < start).
    """
    find = buf.find
    rfind = buf.rfind
    feed = parser.feed
    pos = consumed
    cur_pos = start
    cur_line = base_line
    walked_to = 0
    # continue a window left open by the previous block
    if parser.window:
        pos = start
        while parser.window and pos < end:
            nl = find(b'\n', pos, end)
            parser.pos = pos
            feed(buf[pos:nl], cur_line + 1)
            pos = nl + 1
            cur_line += 1
            cur_pos = walked_to = pos
    stop = min(end, limit)
    if stop <= start:
        return walked_to, cur_pos, cur_line
    hits = _hits(buf, max(start, pos), stop, start)
    nhits = len(hits)
    # next_s[i]: offset of the first report start after hit i (end: none)
    next_s = [end] * nhits
    following = end
    for j in range(nhits - 1, -1, -1):
        next_s[j] = following
        if hits[j][1] == 'S':
            following = hits[j][0]
    last_u = -1
    for idx in range(nhits):
        h, kind = hits[idx]
        if kind == 'U':
            ls = rfind(b'\n', start, h) + 1 or start
            if ls == last_u:
                continue  # one line, two hits (journald's SYSLOG_RAW repeats the message)
            last_u = ls
            if ls < cur_pos:
                cur_line -= count_newlines(buf, ls, cur_pos)
            else:
                cur_line += count_newlines(buf, cur_pos, ls)
            cur_pos = ls
            le = find(b'\n', h, end)
            parser.userspace(buf, ls, le if le >= 0 else end, cur_line + 1)
            continue
        if h < pos:
            continue
        ls = rfind(b'\n', pos, h) + 1 or pos
        if kind != 'K' and ls > pos:
            pls = rfind(b'\n', pos, ls - 1) + 1 or pos
            if continues_record(buf[pls:ls - 1], buf[ls:find(b'\n', ls, end)]):
                # the rest of a record holding a newline: read from the line before
                ls = pls
                kind = 'O'
        region = None
        kill_h = h
        if kind == 'K':
            le = find(b'\n', h, end)
            kill_w = parser.peek(buf[ls:le])
            if kill_w.program is not None and kill_w.program != KERNEL:
                # a userspace program echoing a kill line: nothing to read around it
                parser._memo = None  # pylint: disable=protected-access
                parser.stats['skipped'] += 1
                continue
        elif kind == 'S':
            # the kill line of this report: the next kill-type anchor, unless a report starts first
            j = idx + 1
            while j < nhits and hits[j][1] not in ('K', 'S'):
                j += 1
            if j < nhits and hits[j][1] == 'K':
                k = hits[j][0]
                kls = rfind(b'\n', ls, k) + 1
                if kls > ls:
                    kle = find(b'\n', k, end)
                    kill_w = parser.peek(buf[kls:kle])
                    sle = find(b'\n', h, kls)
                    if (kill_w.program is None or kill_w.program == KERNEL) and \
                            parser.starts_report_of(buf[ls:sle if sle >= 0 else kls], kill_w):
                        region = (ls, kls)
                        kill_h = k
                    else:
                        parser._memo = None  # pylint: disable=protected-access
        if ls < cur_pos:
            cur_line -= count_newlines(buf, ls, cur_pos)
        else:
            cur_line += count_newlines(buf, cur_pos, ls)
        cur_pos = ls
        pos = ls
        if region is not None:
            # from the report start to the kill line: only the lines that can matter are decoded;
            # for short reports only those the summary needs, the rest later if the event is kept
            light = region[1] - region[0] <= MAX_DEFERRED_REGION
            start_line = cur_line
            pos, cur_line = _feed_region(buf, region[0], region[1], cur_line, parser, light)
            cur_pos = walked_to = pos
            ev = parser.last_started
            if light and ev is not None and ev['_start_offset'] == parser.base_offset + region[0] and \
                    ev['line'] == start_line + 1:
                ev['_region'] = bytes(buf[region[0]:region[1]])
                ev['_cfg'] = (parser.include_tasks, parser.ref_epoch, parser.boot_epoch)
        # the anchor's (or kill) line is fed as it is; the lines after it pass the window filter
        # (as in the line-by-line reference) instead of an unwrap of each noise line.  The next
        # report start after the kill line is left to its own hit: a report that follows another
        # one at once (an OOM storm) is then read by keyword too, not line by line.
        next_start = end
        hs = next_s[idx]
        if hs < end and hs > kill_h:
            next_start = rfind(b'\n', pos, hs) + 1 or pos
        first = True
        while pos < end:
            if pos == next_start and pos > kill_h:
                break
            nl = find(b'\n', pos, end)
            parser.pos = pos
            more = feed(buf[pos:nl], cur_line + 1, prefiltered=first or pos <= kill_h <= nl)
            first = False
            pos = nl + 1
            cur_line += 1
            cur_pos = walked_to = pos
            if not more and pos > kill_h:
                break
    return walked_to, cur_pos, cur_line


def _feed_region(buf, a, b, line_a, parser, light=False):
    """Feed the report lines of ``buf[a:b]`` (whole lines; ``a`` is line ``line_a + 1``) that can
    matter: those with a keyword (found with C-speed searches over the region, not line by line)
    and the task table rows (kept raw).  The first line (the report start) is always fed.
    Returns (b, line number count at b)."""
    find = buf.find
    rfind = buf.rfind
    starts = {a}
    keywords = _LIGHT_KEYWORDS if light else _REGION_KEYWORDS
    # the keywords' offsets in one call (libc's strstr: the region is searched 13 times)
    found = _needle_offsets(buf, keywords, a, b)
    # light: every line the summary and the cause need (the first only of the long per-cgroup
    # stats; the per-node lines only when show_mem's "Mem-Info:" line is missing: it tells the same)
    skip_nodes = light and bool(found[_LIGHT_MEM_INFO])
    for kw, offsets in zip(keywords, found):
        if skip_nodes and kw == b'Node ':
            continue
        last = -1
        for i in offsets:
            if i < last:
                continue  # on a line already taken
            ls = rfind(b'\n', a, i) + 1 or a
            starts.add(ls)
            if light and kw == b'Memory cgroup stats for':
                break
            last = find(b'\n', i, b)
            if last < 0:
                break
    cur = a
    line = line_a
    feed = parser.feed
    for ls in sorted(starts):
        le = find(b'\n', ls, b)
        if le < 0:
            le = b
        raw = buf[ls:le]
        if ls != a and b'+0x' in raw:
            continue
        line += count_newlines(buf, cur, ls)
        cur = ls
        parser.pos = ls
        feed(raw, line + 1, prefiltered=True)
    target = parser._row_target  # pylint: disable=protected-access
    if target is not None and not light:
        rows = target['_raw_rows']
        last = -1
        for m in _RE_ROW_RAW.finditer(buf, a, b):
            ls = rfind(b'\n', a, m.start()) + 1 or a
            if ls == last:
                continue
            if len(rows) >= MAX_TASK_ROWS:
                break
            le = find(b'\n', m.end(), b)
            rows.append(bytes(buf[ls:le if le >= 0 else b]))
            last = ls
    return b, line + count_newlines(buf, cur, b)


def scan_stream(fobj, parser, start_line=0, size_limit=None, block_size=BLOCK_SIZE, stats=None, offset=0):
    """Scan a binary stream (anything with ``readinto``) from its current position.

    ``offset``: absolute offset of that position (for event offsets).  ``size_limit``: take no
    anchor beyond this many bytes (a window open there reads on).  Every line shape is searched,
    in one pass.  Returns
    (bytes_read, lines_within_limit, consumed_end) where consumed_end is the absolute offset up
    to which lines were read.
    """
    lookback_max = min(LOOKBACK, block_size)
    # one spare byte after the data: the needle search writes its NUL terminator there
    buf = bytearray(lookback_max + block_size + 1)
    view = memoryview(buf)
    lb = 0                 # look-back bytes at the front of buf
    carry = 0              # bytes of an incomplete line after the look-back
    consumed = 0           # nothing in buf before this is walked again
    total = 0
    lines = start_line
    range_lines = 0
    base = offset          # absolute offset of buf[0]
    consumed_end = offset
    limit_abs = None if size_limit is None else offset + size_limit
    while True:
        if lb + carry >= len(buf) - 1:
            if len(buf) < MAX_LINE + lookback_max:
                view.release()
                buf.extend(bytes(len(buf) - 1))
                view = memoryview(buf)
            else:
                # a line longer than MAX_LINE: dropped, counted as skipped
                base += lb + carry
                lb = carry = consumed = 0
                if stats is not None:
                    stats['skipped'] = stats.get('skipped', 0) + 1
        if limit_abs is not None and base + lb >= limit_abs and not parser.window:
            break
        n = fobj.readinto(view[lb + carry:len(buf) - 1])
        final = not n
        if final:
            if not carry:
                break
            buf[lb + carry:lb + carry + 1] = b'\n'
            filled = lb + carry + 1
        else:
            total += n
            filled = lb + carry + n
        end = buf.rfind(b'\n', lb, filled) + 1
        if end == 0:
            carry = filled - lb
            continue
        lim = end if limit_abs is None else max(lb, min(end, limit_abs - base))
        parser.base_offset = base
        walked, cur_pos, cur_line = _walk_block(buf, lb, end, lines, parser, lim, consumed)
        if walked:
            consumed_end = max(consumed_end, base + walked)
        block_lines = cur_line - lines + count_newlines(buf, cur_pos, end)
        if limit_abs is None or base + end <= limit_abs:
            range_lines += block_lines
        elif base + lb < limit_abs:
            range_lines += count_newlines(buf, lb, limit_abs - base)
        lines += block_lines
        if final:
            break
        # keep the end of this block as look-back for the next one
        new_lb = min(lookback_max, end)
        keep = end - new_lb
        carry = filled - end
        consumed = max(0, max(consumed, walked) - keep)
        if keep:
            view[0:new_lb + carry] = view[keep:filled]
        base += keep
        lb = new_lb
    if limit_abs is not None:
        consumed_end = max(consumed_end, limit_abs)
    else:
        consumed_end = max(consumed_end, offset + total)
    return total, range_lines, consumed_end


_PAGE = 4096
_DROP_FLUSH = 8 * 1024 * 1024
# runs of dropped pages remembered for the second drop at the end
_MAX_RUNS = 4096


# pages whose residency is asked of the kernel at a time (mincore), ahead of reading them
_RESIDENCY_WINDOW = 64 * 1024 * 1024
_MINCORE = []


def _mincore_call():
    """A function (fd, offset, length) -> bytearray of page residency (1 = cached), or None.

    ``mincore`` through ``ctypes`` on a mapping of the range that is never touched (mapping a
    file range reads nothing).  64-bit Linux only; elsewhere None (the reader then tells cached
    pages by ``RWF_NOWAIT`` reads)."""
    if _MINCORE:
        return _MINCORE[0]
    fn = None
    try:
        import ctypes  # pylint: disable=import-outside-toplevel
        if ctypes.sizeof(ctypes.c_void_p) == 8:
            libc = ctypes.CDLL(None, use_errno=True)
            mmap_ = libc.mmap
            mmap_.restype = ctypes.c_void_p
            mmap_.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                              ctypes.c_int64]
            munmap = libc.munmap
            munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
            mincore = libc.mincore
            mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
            failed = ctypes.c_void_p(-1).value

            def fn(fd, offset, length):
                addr = mmap_(None, length, 1, 1, fd, offset)  # PROT_READ, MAP_SHARED
                if addr is None or addr == failed:
                    return None
                try:
                    vec = (ctypes.c_ubyte * ((length + _PAGE - 1) // _PAGE))()
                    if mincore(addr, length, vec) != 0:
                        return None
                    return bytearray(vec)
                finally:
                    munmap(addr, length)
    except (ImportError, OSError, AttributeError):
        fn = None
    _MINCORE.append(fn)
    return fn


class CacheReader(object):
    """``readinto()`` over [start, end) of an open file that leaves the page cache as it found it.

    Before a range is read, the kernel is asked which of its pages are cached (``mincore`` on an
    untouched mapping, 64 MiB at a time, ahead of the reads); after each read, the pages that were
    not cached are dropped again with ``posix_fadvise(DONTNEED)`` (in runs of up to 8 MiB, and
    every run once more at the end: a page the kernel could not let go at the time goes then).
    Read-ahead is turned off for this open file (``POSIX_FADV_RANDOM``).  Without ``mincore``
    (not 64-bit Linux), cached pages are told by a ``preadv(RWF_NOWAIT)`` read first, which copies
    only what is cached (less exact: large folios read beyond a block look cached to the next one).
    What was cached before the run stays cached; what the run brought in leaves with it.
    ``drop=False``, or neither means available: plain reads.  ``dropped``: bytes handed back.
    """

    def __init__(self, fd, start=0, end=None, drop=True):
        self.fd = fd
        self.pos = start
        self.end = end
        self.dropped = 0
        self.cached = 0
        self._pending = None
        self._dropped_to = None
        self._runs = []
        self._runs_complete = True
        # residency of [_wlo, _wlo + len(_res) pages) asked before reading it (mincore), if known
        self._res = None
        self._wlo = 0
        self._mincore = _mincore_call() if drop else None
        self.drop = bool(drop) and hasattr(os, 'preadv') and hasattr(os, 'RWF_NOWAIT') and \
            hasattr(os, 'posix_fadvise')
        if self.drop:
            try:
                os.posix_fadvise(fd, start, 0 if end is None else end - start, os.POSIX_FADV_RANDOM)
            except OSError:
                self.drop = False

    def readinto(self, b):
        view = b if isinstance(b, memoryview) else memoryview(b)
        want = len(view) if self.end is None else min(len(view), self.end - self.pos)
        if want <= 0:
            self.flush(True)
            return 0
        view = view[:want]
        got = 0
        if self.drop and self._mincore is not None:
            self._ensure(self.pos // _PAGE, (self.pos + want - 1) // _PAGE)
        if self.drop and self._mincore is not None:
            n = os.preadv(self.fd, [view], self.pos)
            self._note_read(self.pos, n)
            self.pos += n
            if not n:
                self.flush(True)
            return n
        if self.drop:
            try:
                got = os.preadv(self.fd, [view], self.pos, os.RWF_NOWAIT)
            except BlockingIOError:
                got = 0
            except OSError:
                # no RWF_NOWAIT here (EOPNOTSUPP, EINVAL): plain reads, nothing dropped
                self._stop_dropping()
            self.cached += got
            last = self._pending[1] if self._pending is not None else self._dropped_to
            if got and last == self.pos:
                # the rest of the page the previous read from disk ended in: brought in by it
                edge = min(self.pos + got, (self.pos + _PAGE - 1) // _PAGE * _PAGE)
                if self._pending is None:
                    self._pending = [self.pos, edge]
                else:
                    self._pending[1] = edge
        n = got
        if got < want:
            more = os.preadv(self.fd, [view[got:]], self.pos + got)
            if more and self.drop:
                lo = self.pos + got
                if self._pending is not None and self._pending[1] == lo:
                    self._pending[1] = lo + more
                else:
                    self.flush()
                    self._pending = [lo, lo + more]
                if self._pending[1] - self._pending[0] >= _DROP_FLUSH:
                    self.flush()
            n += more
        elif self._pending is not None and self._pending[1] < self.pos + got:
            self.flush()
        self.pos += n
        if not n:
            self.flush(True)
        return n

    def _ensure(self, first, last):
        """Know the residency of pages [first, last] before reading them: what is known already is
        kept (a page this reader brought in must not count as cached), the rest is asked."""
        res = self._res
        if res is not None and self._wlo <= first and last < self._wlo + len(res):
            return
        if res is not None and self._wlo <= first < self._wlo + len(res):
            keep = res[first - self._wlo:]
            start = self._wlo + len(res)
        else:
            keep = bytearray()
            start = first
        more = self._mincore(self.fd, start * _PAGE, max(_RESIDENCY_WINDOW, (last + 1 - start) * _PAGE)) \
            if self._mincore else None
        if more is None:
            self._mincore = None
            self._res = None
            return
        self._res = keep + more
        self._wlo = first

    def _window(self, page):
        """The residency vector holding ``page``, or None."""
        res = self._res
        if res is None or not self._wlo <= page < self._wlo + len(res):
            return None
        return res

    def _note_read(self, lo, n):
        """[lo, lo + n) was just read: the pages that were not cached before go to the pending run."""
        if not n:
            return
        page = lo // _PAGE
        last = (lo + n - 1) // _PAGE
        while page <= last:
            res = self._window(page)
            if res is None:
                return
            i = page - self._wlo
            j = min(last, self._wlo + len(res) - 1) - self._wlo + 1
            seg = res[i:j]
            if b'\0' not in seg:
                # all cached before: not ours
                self.flush()
                page = self._wlo + j
                continue
            if not seg.strip(b'\0'):
                self._add_run((self._wlo + i) * _PAGE, (self._wlo + j) * _PAGE)
                page = self._wlo + j
                continue
            for k in range(i, j):
                if res[k]:
                    self.flush()
                else:
                    self._add_run((self._wlo + k) * _PAGE, (self._wlo + k + 1) * _PAGE)
            page = self._wlo + j

    def _add_run(self, a, b):
        pend = self._pending
        if pend is not None and pend[1] >= a:
            pend[1] = max(pend[1], b)
        else:
            self.flush()
            self._pending = [a, b]
            self._dropped_to = a
        if self._pending[1] - self._pending[0] >= _DROP_FLUSH:
            self.flush()

    def flush(self, at_end=False):
        """Drop the pending run of pages this reader brought in (whole pages only)."""
        pend = self._pending
        self._pending = None
        if pend is None or not self.drop:
            return
        # whole pages: the one cut by the start goes too when the run before ended there (it was
        # read by this reader); the one cut by the end waits for the next run, or the end
        lo = pend[0] // _PAGE * _PAGE if pend[0] == self._dropped_to else (pend[0] + _PAGE - 1) // _PAGE * _PAGE
        hi = (pend[1] + _PAGE - 1) // _PAGE * _PAGE if at_end else pend[1] // _PAGE * _PAGE
        self._dropped_to = pend[1]
        if hi <= lo:
            return
        try:
            os.posix_fadvise(self.fd, lo, hi - lo, os.POSIX_FADV_DONTNEED)
            self.dropped += hi - lo
        except OSError:
            return
        runs = self._runs
        if runs and runs[-1][1] == lo:
            runs[-1][1] = hi
        elif len(runs) < _MAX_RUNS:
            runs.append([lo, hi])
        else:
            self._runs_complete = False

    def _stop_dropping(self):
        self.flush()
        self.drop = False
        try:
            os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_NORMAL)
        except OSError:
            pass

    def close(self):
        """Drop what is left; then once more every run dropped on the way: a page the kernel
        could not let go at the time (still locked by I/O, in another CPU's LRU batch) goes now."""
        self.flush(True)
        if self.drop and self._runs_complete:
            for lo, hi in self._runs:
                try:
                    os.posix_fadvise(self.fd, lo, hi - lo, os.POSIX_FADV_DONTNEED)
                except OSError:
                    break
        self._runs = []


_GZ_OUT_MAX = 4 * 1024 * 1024


class GzipReader(object):
    """``readinto()`` of the data of a gzip file, every member in turn, inflated with
    ``zlib.decompressobj`` from blocks of the compressed file (``raw``: anything with ``readinto``,
    a :class:`CacheReader` to leave the page cache alone).  No per-call copies beyond zlib's own
    output: what one block inflates to is handed out through a memoryview.  A file that is not
    gzip raises ``OSError`` (no errno); one that ends inside a member raises ``EOFError``."""

    def __init__(self, raw, block=256 * 1024):
        self.raw = raw
        self.inbuf = bytearray(block)
        self.inview = memoryview(self.inbuf)
        self.d = None
        self.held = b''
        self.out = memoryview(b'')
        self.raw_eof = False

    def _more(self):
        """Inflate the next piece into ``self.out``; False at the end of the data."""
        while True:
            d = self.d
            if d is not None:
                if d.unconsumed_tail:
                    out = d.decompress(d.unconsumed_tail, _GZ_OUT_MAX)
                    if out:
                        self.out = memoryview(out)
                        return True
                    continue
                if d.eof:
                    # the next member (or the end): what came after this one
                    self.held = d.unused_data
                    self.d = d = None
            if not self.held:
                if self.raw_eof:
                    if d is not None:
                        raise EOFError('the compressed file ends inside a member')
                    return False
                n = self.raw.readinto(self.inview)
                if not n:
                    self.raw_eof = True
                    continue
                self.held = bytes(self.inview[:n])
            if d is None:
                if len(self.held) < 2 and not self.raw_eof:
                    n = self.raw.readinto(self.inview)
                    if not n:
                        self.raw_eof = True
                    self.held += bytes(self.inview[:n])
                    continue
                if not self.held.strip(b'\0'):
                    self.held = b''  # zero padding after the last member
                    continue
                if self.held[:2] != b'\x1f\x8b':
                    raise OSError('not a gzip member')
                self.d = d = zlib.decompressobj(31)
            data, self.held = self.held, b''
            out = d.decompress(data, _GZ_OUT_MAX)
            if out:
                self.out = memoryview(out)
                return True

    def readinto(self, b):
        view = b if isinstance(b, memoryview) else memoryview(b)
        want = len(view)
        done = 0
        while done < want:
            if not len(self.out) and not self._more():
                break
            k = min(len(self.out), want - done)
            view[done:done + k] = self.out[:k]
            self.out = self.out[k:]
            done += k
        return done

    def skip(self, n):
        """Read and forget ``n`` bytes of data (an incremental run's start in a compressed file)."""
        scratch = bytearray(min(n, 1 << 20) or 1)
        while n > 0:
            got = self.readinto(memoryview(scratch)[:min(n, len(scratch))])
            if not got:
                break
            n -= got


def _split_points(path, start, size, workers):
    """Range bounds for ``workers`` processes: at line starts, preferably at the start of a report
    (searched in the MiB before each even split)."""
    bounds = [start]
    with open(path, 'rb') as f:
        for k in range(1, workers):
            b = start + size * k // workers
            f.seek(b)
            f.readline()
            b = f.tell()
            back = min(1 << 20, b - bounds[-1])
            if back > 0:
                f.seek(b - back)
                chunk = f.read(back)
                i = chunk.rfind(START_ANCHOR)
                if i >= 0:
                    ls = chunk.rfind(b'\n', 0, i) + 1
                    if b - back + ls > bounds[-1]:
                        b = b - back + ls
            bounds.append(min(b, start + size))
    bounds.append(start + size)
    return bounds


def _parallel_scan(path, start, size, parser_factory, start_line, block_size, spools, emit, keep_regions=None,
                   carried=None, emit_userspace=None, drop_cache=True):
    """Scan [start, start+size) in ``len(spools) + 1`` ranges: the first in this process, the
    others in forked children, one per spool (an open temporary file).  Every finished event goes to ``emit`` in file order, with absolute line
    numbers, as a sequential scan would give them.

    A child writes its events to a spool file as it finds them (its memory stays flat however many
    reports its range holds) and keeps the raw reports of only those that can still be returned
    (``keep_regions``).  This process reads the spools after its own range, one event at a time.
    ``carried`` events (still open from the previous file) go on in the first range.  Returns
    (bytes, lines, stats, still_open) where still_open are the events open at the end of the file.
    """
    workers = len(spools) + 1
    bounds = _split_points(path, start, size, workers)
    children = []
    for k, spool in enumerate(spools, 1):
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover  (child)
            code = 0
            try:
                os.close(rfd)
                res = _scan_range(path, bounds[k], bounds[k + 1], parser_factory, block_size, k == workers - 1,
                                  keep_regions, spool=spool, drop_cache=drop_cache)
                spool.flush()
                with os.fdopen(wfd, 'wb') as w:
                    w.write(pickle.dumps(res, protocol=pickle.HIGHEST_PROTOCOL))
            except BaseException:  # pylint: disable=broad-except
                code = 1
            finally:
                os._exit(code)  # pylint: disable=protected-access
        os.close(wfd)
        children.append((k, pid, rfd, spool))

    def first_range_emit(ev):
        if not ev.pop('_carried', False):
            # numbered within its range; a carried event keeps its place in the older file
            ev['line'] += start_line
            ev['_last_line'] += start_line
        emit(ev)
    try:
        nbytes, nlines, prev_end, stats, dummy, dummy_regions = _scan_range(
            path, bounds[0], bounds[1], parser_factory, block_size, workers == 1, keep_regions,
            carried=carried, emit=first_range_emit, drop_cache=drop_cache)
    finally:
        results = [_child_result(pid, rfd) for _k, pid, rfd, _spool in children]
    total_bytes = nbytes
    lines = start_line + nlines
    still_open = []
    for (k, _pid, _rfd, spool), res in zip(children, results):
        if res is None:
            # the child failed: this process scans its range instead
            spool.seek(0)
            spool.truncate()
            res = _scan_range(path, bounds[k], bounds[k + 1], parser_factory, block_size, k == workers - 1,
                              keep_regions, spool=spool, drop_cache=drop_cache)
        nbytes, nlines, consumed_end, st, open_at_end, regions = res
        spool.seek(0)
        for ev, finished in _spooled(spool, open_at_end):
            if ev.get('_userspace'):
                ev.pop('_userspace')
                ev['line'] += lines
                if emit_userspace is not None:
                    emit_userspace(ev)
                continue
            if ev['_start_offset'] < prev_end:
                continue  # read by the previous range's window
            ev['line'] += lines
            ev['_last_line'] += lines
            if ev.get('_seq') in regions:
                ev['_region'] = regions[ev['_seq']]
            if finished:
                emit(ev)
            else:
                still_open.append(ev)
        total_bytes += nbytes
        lines += nlines
        stats['skipped'] += st.get('skipped', 0)
        stats['errors'] += st.get('errors', 0)
        prev_end = consumed_end
    return total_bytes, lines - start_line, stats, still_open


def _child_result(pid, rfd):
    """What a scan child sent back, or None when it failed."""
    with os.fdopen(rfd, 'rb') as r:
        data = r.read()
    _pid, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    try:
        return pickle.loads(data)
    except Exception:  # pylint: disable=broad-except
        return None


def _spooled(spool, open_at_end):
    """(event, finished) for the events of a spool file in the order written, then for those
    still open at the end of the range."""
    while True:
        try:
            # one load per dump: each record was pickled on its own (memo and all)
            ev = pickle.load(spool)
        except EOFError:
            break
        yield ev, True
    for ev in open_at_end:
        yield ev, False


def _scan_range(path, start, end, parser_factory, block_size, is_last, keep_regions=None,
                carried=None, emit=None, spool=None, drop_cache=True):
    """Scan [start, end) of a file in this process, line numbers counted from the range start.

    Finished events go to ``emit``, or are pickled into ``spool`` in the order found; in a spool,
    an event's raw report is left out and sent back in ``regions`` (by the event's ``_seq``) only if
    ``keep_regions`` says the event can still be returned.  ``carried``: events still open from
    the previous file.  The last range hands back the events open at the end of the file instead
    of finishing them, so the caller can carry them on.  Returns (bytes, lines, consumed_end,
    stats, still_open, regions).
    """
    stats = {'skipped': 0, 'errors': 0}
    keeper = keep_regions() if keep_regions is not None and spool is not None else None
    numbers = itertools.count()

    def to_spool(ev):
        ev['_seq'] = next(numbers)
        if keeper is not None and keeper(ev) and '_region' in ev:
            # the keeper holds on to the event while it may be returned (its raw report comes
            # back in ``regions``); the spool gets it without
            ev = dict((key, value) for key, value in ev.items() if key != '_region')
        pickle.dump(ev, spool, protocol=pickle.HIGHEST_PROTOCOL)
    parser = parser_factory(emit if emit is not None else to_spool, stats)
    if spool is not None and parser.emit_userspace is not None:
        # a child's userspace kills travel in its spool, marked, with its events
        def userspace_to_spool(uev):
            uev['_userspace'] = True
            pickle.dump(uev, spool, protocol=pickle.HIGHEST_PROTOCOL)
        parser.emit_userspace = userspace_to_spool
    if carried:
        for ev in carried:
            ev['_carried'] = True
        parser.adopt(carried)
    with open(path, 'rb', buffering=0) as f:
        reader = CacheReader(f.fileno(), start, drop=drop_cache)
        try:
            nbytes, nlines, consumed_end = scan_stream(reader, parser, 0, size_limit=None if is_last else end - start,
                                                       block_size=block_size, stats=stats, offset=start)
        finally:
            reader.close()
    still_open = parser.hand_over(0) if is_last else []
    parser.close()
    regions = keeper.regions() if keeper is not None else {}
    return min(nbytes, end - start), nlines, consumed_end, stats, still_open, regions


def scan_file(path, parser, start_offset=0, start_line=0, block_size=BLOCK_SIZE, workers=1,
              parser_factory=None, stats=None, keep_regions=None, drop_cache=True):
    """Scan a plain or gzip file from ``start_offset``.  Returns (bytes_read, lines, end_offset).

    With ``workers`` > 1 and a large uncompressed file, ranges are scanned in forked children
    (``parser_factory(emit, stats)`` builds their parsers); their events go to ``parser.emit``.
    ``keep_regions`` (see :meth:`EventCollector.region_keeper`) keeps the workers' memory small.
    ``drop_cache``: hand back to the page cache what the scan brought in (see :class:`CacheReader`).
    The caller closes ``parser``.
    """
    if path.endswith('.gz'):
        with open(path, 'rb', buffering=0) as f:
            raw = CacheReader(f.fileno(), 0, drop=drop_cache)
            try:
                g = GzipReader(raw)
                if start_offset:
                    g.skip(start_offset)
                nbytes, nlines, _end = scan_stream(g, parser, start_line, block_size=block_size, stats=stats,
                                                   offset=start_offset)
            finally:
                raw.close()
        return nbytes, nlines, start_offset + nbytes
    size = os.path.getsize(path)
    todo = size - start_offset
    spools = []
    if workers > 1 and parser_factory is not None and todo >= PARALLEL_MIN_BYTES:
        try:
            for dummy in range(workers - 1):
                spools.append(tempfile.TemporaryFile())
        except (IOError, OSError):
            # no temporary file here (read-only or full TMPDIR): one process reads it all
            for spool in spools:
                spool.close()
            spools = []
    if spools:
        try:
            # the first range goes on with events left open by the previous file, and the events
            # open at the end of the last range go back to this parser
            nbytes, nlines, st, still_open = _parallel_scan(
                path, start_offset, todo, parser_factory, start_line, block_size, spools, parser.emit, keep_regions,
                parser.hand_over(0), parser.emit_userspace, drop_cache)
        finally:
            for spool in spools:
                spool.close()
        parser.adopt(still_open)
        if stats is not None:
            stats['skipped'] = stats.get('skipped', 0) + st['skipped']
            stats['errors'] = stats.get('errors', 0) + st['errors']
        return nbytes, nlines, start_offset + nbytes
    with open(path, 'rb', buffering=0) as f:
        reader = CacheReader(f.fileno(), start_offset, drop=drop_cache)
        try:
            nbytes, nlines, _end = scan_stream(reader, parser, start_line, block_size=block_size, stats=stats,
                                               offset=start_offset)
        finally:
            reader.close()
    return nbytes, nlines, start_offset + nbytes


def _skip(f, n):
    while n > 0:
        chunk = f.read(min(n, 1 << 20))
        if not chunk:
            break
        n -= len(chunk)


# --------------------------------------------------------------------------------------------
# collection: de-dup, time filter, newest N, summary
# --------------------------------------------------------------------------------------------

_RE_REL = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hour|hours|d|day|days|w|week|weeks)?\s*(?:ago)?\s*$', re.I)


def parse_time_bound(value, now=None):
    """'7d', '12h', '30m', '90s', '2w', epoch seconds, or an ISO 8601 date/time -> epoch float.

    Returns None for None/empty; raises ValueError on anything else unreadable.
    """
    if value is None or value == '':
        return None
    if isinstance(value, (int, float)):
        return float(value)
    now = time.time() if now is None else now
    s = str(value).strip()
    if s.startswith('@'):
        return float(s[1:])
    m = _RE_REL.match(s)
    if m and m.group(2):
        mult = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}[m.group(2)[0].lower()]
        return now - float(m.group(1)) * mult
    if re.match(r'^\d{9,}(\.\d+)?$', s):
        return float(s)
    if s in ('now',):
        return now
    if s in ('today', 'yesterday'):
        lt = time.localtime(now)
        base = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday, 0, 0, 0, 0, 0, -1))
        return base - (86400 if s == 'yesterday' else 0)
    m = re.match(r'^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?\s*(Z|[+-]\d\d:?\d\d)?$', s)
    if m:
        e = _epoch_from_parts(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4) or 0),
                              int(m.group(5) or 0), int(m.group(6) or 0), m.group(7), m.group(8))
        if e is not None:
            return e
    raise ValueError('cannot read time %r (use e.g. 7d, 12h, 2026-11-26T00:00:00 or epoch seconds)' % (value,))


class RegionKeeper(object):
    """Called with each finished event of one scan range, in the order read: drops the raw report
    text (kept for the deferred full parse) of an event as soon as the collector could no longer
    keep it among its newest ``max_events`` inside since/until."""

    def __init__(self, collector):
        self.collector = collector
        self.newest = []
        self.order = itertools.count()

    def __call__(self, ev):
        """True while this keeper holds the event (its raw report may still be needed)."""
        limit = self.collector.max_events
        if limit is None:
            return False
        ep = ev.get('_epoch')
        if limit <= 0 or self.collector.outside(ep):
            ev.pop('_region', None)
            return False
        item = (ep if ep is not None else float('-inf'), next(self.order), ev)
        if len(self.newest) < limit:
            heapq.heappush(self.newest, item)
            return True
        dropped = heapq.heappushpop(self.newest, item)
        dropped[2].pop('_region', None)
        return dropped is not item

    def regions(self):
        """Raw reports still kept, by the events' ``_seq``."""
        return dict((ev['_seq'], ev['_region']) for _ep, _n, ev in self.newest if '_region' in ev)


class EventCollector(object):
    """Receives finished events from every source; de-duplicates, filters and summarises.

    Memory stays bounded by ``max_events`` plus a small de-dup index.
    """

    def __init__(self, since=None, until=None, max_events=None, dedup_window=2.0):
        self.since = since
        self.until = until
        self.max_events = max_events
        self.dedup_window = dedup_window
        self._heap = []
        self._seq = 0
        self._index = {}
        self._live = {}
        self.total = 0
        self.duplicates = 0
        self.filtered = 0
        self.by_cause = {}
        self.by_process = {}
        self.by_cgroup = {}
        self.by_source = {}
        self.first_epoch = None
        self.last_epoch = None
        # optional callable(event) run on each kept event before it is counted (enrichment)
        self.refine = None
        # userspace killers' kills (never counted as kernel events)
        self.userspace = []
        self.userspace_total = 0
        # the kernel's own record of this host (journal _TRANSPORT=kernel, /dev/kmsg) that was
        # read, by source name, with the time of its first record (None: unknown)
        self.kernel_sources = {}
        self.local_host = None

    def mark_kernel_source(self, name, first_epoch=None):
        """Source ``name`` is the kernel's own record of this host and was read."""
        self.kernel_sources[name] = first_epoch

    def _verified(self, ev):
        """True: the kernel's own record has the event; False: it was read (and covers the
        event's time) but lacks it; None: only text logs were read, or they cannot be compared."""
        if any(src in self.kernel_sources for src in ev.get('sources') or (ev.get('source'),)):
            return True
        if not self.kernel_sources:
            return None
        firsts = list(self.kernel_sources.values())
        ep = ev.get('_epoch')
        if ep is None or any(f is None for f in firsts) or ep < min(firsts):
            return None
        host = ev.get('host')
        if host and self.local_host and host.split('.')[0] != self.local_host.split('.')[0]:
            return None
        return False

    def add_userspace(self, uev):
        """A userspace killer's kill (systemd-oomd, earlyoom, nohang): kept apart from events."""
        ep = uev.get('_epoch')
        if self.outside(ep):
            return
        for old in self.userspace[-64:]:
            if old['source'] != uev['source'] and old['killer'] == uev['killer'] and \
                    old['victim_pid'] == uev['victim_pid'] and old['cgroup'] == uev['cgroup'] and \
                    ep is not None and old.get('_epoch') is not None and abs(old['_epoch'] - ep) <= self.dedup_window:
                if uev['source'] not in old['sources']:
                    old['sources'].append(uev['source'])
                return
        self.userspace_total += 1
        self.userspace.append(uev)
        if self.max_events is not None and len(self.userspace) > max(self.max_events, 64) * 2:
            self.userspace.sort(key=lambda u: (u.get('_epoch') is not None, u.get('_epoch') or 0))
            del self.userspace[:len(self.userspace) - max(self.max_events, 64)]

    def userspace_events(self):
        """The userspace kills, oldest first (the newest ``max_events``)."""
        items = sorted(self.userspace, key=lambda u: (u.get('_epoch') is not None, u.get('_epoch') or 0))
        if self.max_events is not None:
            items = items[-self.max_events:] if self.max_events > 0 else []
        out = []
        for u in items:
            pub = dict((k, v) for k, v in u.items() if k[:1] != '_')
            pub['time'] = _iso(u.get('_epoch'))
            out.append(pub)
        return out

    def _key(self, ev):
        # the victim names the event; the invoker only when there is none (pipelines that split a
        # record holding a newline keep the victim whole but may keep half of the invoker's name)
        if ev['killed_pid'] is not None:
            return (ev['killed_pid'], ev['killed_comm'])
        return (None, None, ev['invoker'])

    def _is_dup(self, ev):
        key = self._key(ev)
        cands = self._index.setdefault(key, [])
        up = ev.get('_kill_uptime') if ev.get('_kill_uptime') is not None else ev['uptime']
        ep = ev.get('_epoch')
        for cand in cands:
            c_src, c_up, c_ep, c_seq, c_host = cand
            if c_src == ev['source']:
                continue
            if c_host and ev['host'] and c_host != ev['host']:
                continue
            same = False
            if up is not None and c_up is not None:
                same = abs(up - c_up) < 0.002
            elif ep is not None and c_ep is not None:
                same = abs(ep - c_ep) <= self.dedup_window
            if same:
                c_ev = self._live.get(c_seq)
                if c_ev is not None:
                    if ev['source'] not in c_ev['sources']:
                        c_ev['sources'].append(ev['source'])
                    # fill gaps of the first copy from the second one
                    for k in EVENT_FIELDS + ('_epoch',):
                        if c_ev.get(k) is None and ev.get(k) is not None:
                            c_ev[k] = ev[k]
                return True
        # the index keeps small tuples only; the event itself only while it is returned
        cands.append((ev['source'], up, ep, self._seq + 1, ev['host']))
        if len(cands) > 64:
            del cands[0]
        return False

    def add(self, ev):
        ep = ev.get('_epoch')
        if self.outside(ep):
            self.filtered += 1
            return
        if self._is_dup(ev):
            self.duplicates += 1
            return
        if self.refine is not None:
            try:
                self.refine(ev)
            except Exception:  # pylint: disable=broad-except
                ev['evidence'].append('enrichment failed')
        self.total += 1
        cause = ev['cause']
        self.by_cause[cause] = self.by_cause.get(cause, 0) + 1
        if ev['killed_comm'] is not None:
            self.by_process[ev['killed_comm']] = self.by_process.get(ev['killed_comm'], 0) + 1
        cg = ev['memcg'] or ev['task_memcg']
        if cg:
            self.by_cgroup[cg] = self.by_cgroup.get(cg, 0) + 1
        self.by_source[ev['source']] = self.by_source.get(ev['source'], 0) + 1
        if ep is not None:
            if self.first_epoch is None or ep < self.first_epoch:
                self.first_epoch = ep
            if self.last_epoch is None or ep > self.last_epoch:
                self.last_epoch = ep
        self._seq += 1
        item = (ep if ep is not None else float('-inf'), self._seq, ev)
        if self.max_events is None:
            self._heap.append(item)
            self._live[self._seq] = ev
        elif self.max_events > 0:
            self._live[self._seq] = ev
            if len(self._heap) < self.max_events:
                heapq.heappush(self._heap, item)
            else:
                dropped = heapq.heappushpop(self._heap, item)
                self._live.pop(dropped[1], None)

    def outside(self, ep):
        return ep is not None and (self.since is not None and ep < self.since or
                                   self.until is not None and ep > self.until)

    def region_keeper(self):
        """A :class:`RegionKeeper` for the finished events of one scan range, in the order read."""
        return RegionKeeper(self)

    def events(self):
        items = sorted(self._heap, key=lambda x: (x[0], x[1]))
        for item in items:
            if item[2].get('_region') is not None:
                complete_event(item[2])
            item[2]['verified'] = self._verified(item[2])
        return [public_event(x[2]) for x in items]

    def summary(self, repeat_threshold=2):
        def top(d):
            return dict(sorted(d.items(), key=lambda kv: (-kv[1], str(kv[0]))))
        repeat = []
        for kind, d in (('process', self.by_process), ('cgroup', self.by_cgroup)):
            for name, n in d.items():
                if n >= repeat_threshold:
                    repeat.append({'type': kind, 'name': name, 'count': n})
        repeat.sort(key=lambda r: (-r['count'], r['type'], r['name']))
        return {
            'total': self.total,
            'returned': min(self.total, len(self._heap)),
            'duplicates': self.duplicates,
            'filtered_by_time': self.filtered,
            'by_cause': top(self.by_cause),
            'by_killed_process': top(self.by_process),
            'by_cgroup': top(self.by_cgroup),
            'by_source': top(self.by_source),
            'first': _iso(self.first_epoch),
            'last': _iso(self.last_epoch),
            'repeat_offenders': repeat,
            'userspace_total': self.userspace_total,
            'unverified': sum(1 for x in self._heap if self._verified(x[2]) is False),
        }


# --------------------------------------------------------------------------------------------
# convenience entry points (tests, bench, ad-hoc use)
# --------------------------------------------------------------------------------------------

def parse_lines(lines, source='text', include_tasks=False, ref_epoch=None, boot_epoch=None, stats=None):
    """Parse an iterable of lines (str or bytes) line by line; returns finished (private) events.

    Every line is fed (no anchor scan): the reference behaviour the fast scan must match.
    """
    events = []
    parser = OomParser(source, events.append, include_tasks=include_tasks, ref_epoch=ref_epoch,
                       boot_epoch=boot_epoch, stats=stats)
    prev = None
    for n, line in enumerate(lines, 1):
        if isinstance(line, str):
            line = line.encode('utf-8', 'surrogateescape')
        line = line.rstrip(b'\r\n')
        if not parser.window:
            if not opens_event(line):
                prev = line
                continue
            if not any(a in line for a in K_ANCHORS) and continues_record(prev, line):
                # the rest of a record holding a newline: the record starts on the line before
                parser.feed(prev, n - 1, prefiltered=True)
            parser.feed(line, n, prefiltered=True)
        else:
            parser.feed(line, n)
        prev = line
    parser.close()
    for ev in events:
        ev['time'] = _iso(ev.get('_epoch'))
    return events


def parse_text(text, source='text', include_tasks=False, ref_epoch=None, boot_epoch=None,
               since=None, until=None, max_events=None, userspace=None):
    """Parse a whole text through the fast block scanner; returns (public events, summary).
    ``userspace``: a list that receives the userspace killers' kills."""
    import io  # pylint: disable=import-outside-toplevel
    if isinstance(text, str):
        text = text.encode('utf-8')
    coll = EventCollector(since=since, until=until, max_events=max_events)
    stats = {}
    parser = OomParser(source, coll.add, include_tasks=include_tasks, ref_epoch=ref_epoch,
                       boot_epoch=boot_epoch, stats=stats, emit_userspace=coll.add_userspace)
    scan_stream(io.BytesIO(text), parser, stats=stats)
    parser.close()
    if userspace is not None:
        userspace.extend(coll.userspace_events())
    return coll.events(), coll.summary()
