# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Follow the kernel log pass after pass and hand out each OOM decision exactly once.

Shared by the watch role's collector (it counts the decisions into a node_exporter textfile) and
the ``oomkit.linux.oom_events`` Event-Driven Ansible source (it emits them as events). Standard
library only, Python 3.8+; the parsing is ``oom_log``'s and the reading ``oom_sources``' (their
incremental state: file identity + offset + head fingerprint, journal cursor, kmsg sequence).

What this layer adds, all kept in one JSON-able state:

- the reader's position, committed only once the pass's decisions have been handed out;
- the identities of the decisions handed out (host, victim pid and name, time, uptime), so that
  the same kill read again (a rotated copy read under a new name, a vacuumed journal cursor, a
  crash between handing out and committing) is never handed out twice;
- reports read without their kill line (the read ended in the middle of a report): held back
  for one pass, joined with the kill line when it comes, handed out as they are otherwise (so a
  kernel whose kill line carries no sizes has its kills handed out one pass late, never lost).
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import re
import time

from ansible_collections.oomkit.linux.plugins.module_utils.oom_host import make_refiner
from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import (
    STATE_VERSION as READER_STATE_VERSION,
    SourceReader,
)

STATE_VERSION = 1
SOURCES = ('auto', 'journal', 'files', 'dmesg')
# identities of handed-out decisions kept (far more than one pass can re-read)
SEEN_KEEP = 2000
# two readings of one kill lie this close in time (log timestamps have 1 s precision)
SAME_KILL_SECONDS = 2.0
# a kill line this close after a report held back completes it
PENDING_MERGE_SECONDS = 30.0
_RE_UNIT = re.compile(r'([^/]+\.(?:service|scope))(?:/|$)')


def event_epoch(ev):
    """Seconds since the epoch of a public event (from its ISO 8601 ``time``), or None."""
    t = ev.get('time')
    if not t:
        return None
    try:
        return datetime.datetime.fromisoformat(t).timestamp()
    except (TypeError, ValueError):
        return None


def identity(ev):
    """What names one kernel OOM decision, whichever log it was read from."""
    epoch = event_epoch(ev)
    return [ev.get('host') or '', ev.get('killed_pid'), ev.get('killed_comm'),
            None if epoch is None else round(epoch, 3), ev.get('uptime')]


def same_decision(a, b):
    if (a[0] and b[0] and a[0] != b[0]) or a[1] != b[1] or a[2] != b[2]:
        return False
    if a[4] is not None and b[4] is not None:
        return abs(a[4] - b[4]) < 0.002
    if a[3] is not None and b[3] is not None:
        return abs(a[3] - b[3]) <= SAME_KILL_SECONDS
    return a[1] is not None and a[3] is None and b[3] is None


def userspace_killer(ev):
    """The userspace killer of an event (systemd-oomd, earlyoom, ...); None for the kernel's."""
    killer = ev.get('killer')
    if killer and killer != 'kernel':
        return str(killer)
    return None


def is_kill(ev):
    return ev.get('killed_pid') is not None or bool(userspace_killer(ev))


def unit_of(ev):
    """The systemd unit (service or scope) whose cgroup the victim was in, or None."""
    for path in (ev.get('task_memcg'), ev.get('memcg')):
        if path:
            found = _RE_UNIT.findall(path)
            if found:
                return found[-1]
    return None


def _without_kill_line(ev):
    """A report read up to, not including, its kill line (the read ended inside the report): the
    victim may already be known from the ``oom-kill:`` line, but the kill line's sizes are not."""
    if ev.get('no_killable') or ev.get('panic') or userspace_killer(ev) or ev.get('invoker') is None:
        return False
    return ev.get('total_vm_kb') is None and ev.get('anon_rss_kb') is None and not ev.get('reaped')


def _near(p, ev, epoch):
    if p['identity'][0] and ev.get('host') and p['identity'][0] != ev.get('host'):
        return False
    if p['identity'][1] is not None and p['identity'][1] != ev.get('killed_pid'):
        return False
    up, p_up = ev.get('uptime'), p['identity'][4]
    if up is not None and p_up is not None:
        return 0 <= up - p_up <= PENDING_MERGE_SECONDS
    p_ep = p['identity'][3]
    return epoch is not None and p_ep is not None and 0 <= epoch - p_ep <= PENDING_MERGE_SECONDS


class Follower(object):
    """One incremental reader over the kernel log with hand-out-once bookkeeping.

    ``state``: what :attr:`state` returned last time (or None for a first start).
    ``since``: for a first start only (no state): V(now) = start at the end of the log, nothing
    handed out; V(all) = everything the log holds; or a time bound (``7d``, ISO 8601, epoch).
    """

    def __init__(self, state=None, sources=('auto',), paths=None, since='now', enrich=True, root='/',
                 journalctl=None, dmesg=None):
        self.sources = list(sources or ['auto'])
        bad = [s for s in self.sources if s not in SOURCES]
        if bad:
            raise ValueError('sources: %s not one of %s' % (', '.join(bad), ', '.join(SOURCES)))
        self.paths = list(paths or [])
        self.enrich = enrich
        self.root = root
        self.journalctl = journalctl
        self.dmesg = dmesg
        st = state if isinstance(state, dict) and state.get('version') == STATE_VERSION else {}
        self.first = 'reader' not in st
        self.since = since if since not in (None, '') else 'now'
        self.reader_state = st.get('reader')
        if not isinstance(self.reader_state, dict) or self.reader_state.get('version') != READER_STATE_VERSION:
            self.reader_state = {'version': READER_STATE_VERSION, 'files': {}}
        self.seen = list(st.get('seen') or [])
        self.pending = list(st.get('pending') or [])
        self.extra = dict(st.get('extra') or {})
        self.read_errors = 0
        self.messages = []
        self._next_reader_state = None

    @property
    def state(self):
        return {'version': STATE_VERSION, 'reader': self.reader_state, 'seen': self.seen[-SEEN_KEEP:],
                'pending': self.pending, 'extra': self.extra}

    def poll(self, now=None, baseline_keep=50):
        """Read what is new. Returns the decisions to hand out, oldest first (public events).

        Call :meth:`handed_out` for each one once it is out, then :meth:`commit`."""
        now = time.time() if now is None else now
        baseline = self.first and self.since == 'now'
        replay_since = None
        if self.first and self.since not in ('now', 'all'):
            replay_since = self.since
        reader = SourceReader(root=self.root, state=self.reader_state, workers=1, now=now, since=replay_since,
                              journalctl=self.journalctl, dmesg=self.dmesg,
                              max_events=baseline_keep if baseline else None)
        if self.enrich:
            reader.collector.refine = make_refiner(self.root)
        reader.run(self.sources, self.paths or None)
        events = reader.collector.events()
        self.read_errors = sum(int(st.get('errors') or 0) for st in reader.stats)
        self.messages = ['%s: %s' % (st.get('name'), st.get('status')) for st in reader.stats
                         if st.get('status') not in ('ok', 'missing')]
        self._next_reader_state = reader.new_state
        if baseline:
            for ev in events:
                self.seen.append(identity(ev))
            self.baseline_events = events
            return []
        self.baseline_events = []
        out = []
        held = []
        for ev in events:
            ident = identity(ev)
            if any(same_decision(ident, s) for s in self.seen):
                continue
            if _without_kill_line(ev):
                if not any(same_decision(ident, p['identity']) for p in self.pending):
                    held.append({'identity': ident, 'event': ev})
                continue
            if ev.get('killed_pid') is not None and ev.get('invoker') is None:
                match = None
                for p in self.pending:
                    if _near(p, ev, event_epoch(ev)):
                        match = p
                        break
                if match is not None:
                    self.pending.remove(match)
                    merged = dict(match['event'])
                    for k, v in ev.items():
                        if merged.get(k) in (None, [], {}) and v not in (None, [], {}):
                            merged[k] = v
                    merged['killed_pid'] = ev['killed_pid']
                    merged['killed_comm'] = ev.get('killed_comm')
                    # the report's cause (from all of it) over the kill line's (from one line)
                    if merged.get('cause') in (None, 'unknown'):
                        merged['cause'] = ev.get('cause')
                    self.seen.append(match['identity'])
                    out.append(merged)
                    continue
            out.append(ev)
        # reports held back by the previous pass whose kill line did not come: out as they are
        out[:0] = [p['event'] for p in self.pending]
        for p in self.pending:
            self.seen.append(p['identity'])
        self.pending = held
        return out

    def handed_out(self, ev):
        """Record that ``ev`` is out (before the reader position is committed)."""
        self.seen.append(identity(ev))

    def commit(self):
        """The pass is done: its reader position becomes the one to resume from."""
        if self._next_reader_state is not None:
            self.reader_state = self._next_reader_state
            self._next_reader_state = None
        self.first = False


# --------------------------------------------------------------------------------------------
# persistence
# --------------------------------------------------------------------------------------------

def load_json_state(path, version):
    """(state, message). A missing file is a fresh start (None); a damaged one too, but it is
    moved aside to ``<path>.damaged`` and the message says so."""
    try:
        with open(path, 'r') as f:
            st = json.load(f)
    except (IOError, OSError) as e:
        if e.errno != errno.ENOENT:
            raise
        return None, None
    except ValueError:
        st = None
    if not isinstance(st, dict) or st.get('version') != version:
        aside = '%s.damaged' % path
        os.replace(path, aside)
        return None, 'state file %s was unreadable, moved to %s; starting again' % (path, aside)
    return st, None
