#!/usr/bin/python3
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""oomkit watch collector: one incremental pass over the kernel log per run.

Installed by the ``oomkit.linux.watch`` role next to a copy of the collection's own
``module_utils`` (the parser and its sources), and run from a systemd timer or cron. Python
standard library only (3.8+). Each run:

- reads what the kernel logged since the previous run (journal cursor, file offsets with
  rotation detection, /dev/kmsg sequence numbers: oom_sources' incremental state);
- adds the new OOM kills to its own persisted totals, which never go backwards: the counter
  does not depend on what the log still holds (rotation, journal vacuuming, reboots);
- writes a node_exporter textfile atomically, and the last N events as JSON.

The reader state and the totals live in ONE state file, replaced atomically, so a crash between
reading and writing neither drops nor repeats a kill.

Usage: oomkit_watch.py [--config /etc/oomkit/watch.json] [--apply-budget]
Exit status: 0 on success (read errors are reported in the textfile), 1 when the configuration is
bad or the output cannot be written, 0 with a message when another run holds the lock.
"""

from __future__ import annotations

import argparse
import datetime
import errno
import fcntl
import json
import os
import sys
import tempfile
import time

# The role installs this file as <lib>/oomkit_watch.py with the collection's module_utils under
# <lib>/ansible_collections/oomkit/linux/plugins/module_utils/ (implicit namespace packages).
_LIB = os.path.dirname(os.path.abspath(__file__))
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

# pylint: disable=wrong-import-position
from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import CAUSES  # noqa: E402
from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import (  # noqa: E402
    STATE_VERSION as READER_STATE_VERSION,
    SourceReader,
    make_refiner,
)

STATE_VERSION = 1
DEFAULT_CONFIG = '/etc/oomkit/watch.json'
DEFAULTS = {
    'sources': ['auto'],
    'paths': [],
    'textfile': '/var/lib/prometheus/node-exporter/oomkit_watch.prom',
    'state_file': '/var/lib/oomkit/watch.state',
    'events_file': '/var/lib/oomkit/watch-events.json',
    'max_events': 50,
    'count_existing': False,
    'enrich': True,
    'oom_score_adj': 500,
    'nice': 19,
}
SOURCES = ('auto', 'journal', 'files', 'dmesg')
# counted kills remembered to recognise the same kill read twice (rotated copy, vacuumed cursor)
SEEN_KEEP = 1000
# seconds within which two readings of a kill (or a report and its late kill line) are the same
SAME_KILL_SECONDS = 2.0
PENDING_MERGE_SECONDS = 30.0


class ConfigError(Exception):
    pass


# --------------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------------

def load_config(path):
    """The JSON configuration written by the role, checked; unknown keys are an error."""
    try:
        with open(path, 'r') as f:
            raw = json.load(f)
    except (IOError, OSError) as e:
        raise ConfigError('%s: cannot read the configuration: %s' % (path, e.strerror or e))
    except ValueError as e:
        raise ConfigError('%s: not JSON: %s' % (path, e))
    if not isinstance(raw, dict):
        raise ConfigError('%s: the configuration must be a JSON object' % path)
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ConfigError('%s: unknown option(s): %s' % (path, ', '.join(unknown)))
    cfg = dict(DEFAULTS)
    cfg.update(raw)
    return check_config(cfg, path)


def check_config(cfg, where='configuration'):
    def fail(opt, why):
        raise ConfigError('%s: %s %s' % (where, opt, why))
    src = cfg['sources']
    if not isinstance(src, list) or not src or any(s not in SOURCES for s in src):
        fail('sources', 'must be a non-empty list of %s' % ', '.join(SOURCES))
    if not isinstance(cfg['paths'], list) or any(not isinstance(p, str) or not p.startswith('/') for p in cfg['paths']):
        fail('paths', 'must be a list of absolute paths or globs')
    for opt in ('textfile', 'state_file', 'events_file'):
        v = cfg[opt]
        if not isinstance(v, str) or not v.startswith('/') or v.endswith('/'):
            fail(opt, 'must be an absolute file path')
    if not cfg['textfile'].endswith('.prom'):
        fail('textfile', 'must end in .prom (node_exporter reads only those)')
    for opt, lo, hi in (('max_events', 0, 100000), ('oom_score_adj', 0, 1000), ('nice', 0, 19)):
        v = cfg[opt]
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            fail(opt, 'must be an integer from %d to %d' % (lo, hi))
    for opt in ('count_existing', 'enrich'):
        if not isinstance(cfg[opt], bool):
            fail(opt, 'must be true or false')
    return cfg


# --------------------------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------------------------

def atomic_write(path, text, mode=0o644):
    """Replace ``path`` with ``text``: temp file in the same directory, fsync, rename."""
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=d)
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load_state(path):
    """Our state: a missing file is a fresh start; a damaged one too, but it is kept aside."""
    fresh = {'version': STATE_VERSION}
    try:
        with open(path, 'r') as f:
            st = json.load(f)
    except (IOError, OSError) as e:
        if e.errno != errno.ENOENT:
            raise
        return fresh, None
    except ValueError:
        st = None
    if not isinstance(st, dict) or st.get('version') != STATE_VERSION:
        aside = '%s.damaged' % path
        os.replace(path, aside)
        return fresh, 'state file %s was unreadable, moved to %s; counting starts again' % (path, aside)
    return st, None


# --------------------------------------------------------------------------------------------
# one run
# --------------------------------------------------------------------------------------------

def _ep(ev):
    """The kill's time in seconds since the epoch (from the event's ISO 8601 time), or None."""
    t = ev.get('time')
    if not t:
        return None
    try:
        return datetime.datetime.fromisoformat(t).timestamp()
    except (TypeError, ValueError):
        return None


def _identity(ev, epoch):
    return [ev.get('host') or '', ev.get('killed_pid'), ev.get('killed_comm'),
            None if epoch is None else round(epoch, 3), ev.get('uptime')]


def _same(a, b):
    """Two identities name the same kernel kill."""
    if (a[0] and b[0] and a[0] != b[0]) or a[1] != b[1] or a[2] != b[2]:
        return False
    if a[4] is not None and b[4] is not None and abs(a[4] - b[4]) < 0.002:
        return True
    if a[3] is not None and b[3] is not None:
        return abs(a[3] - b[3]) <= SAME_KILL_SECONDS
    return False


def _is_kill(ev):
    return ev.get('killed_pid') is not None


def _victimless(ev):
    """A report read without its kill line: it may have been cut by the end of this read."""
    return ev.get('killed_pid') is None and not ev.get('no_killable') and not ev.get('panic')


def _userspace_killer(ev):
    """The userspace killer of an event (systemd-oomd, earlyoom, ...), None for kernel kills."""
    killer = ev.get('killer')
    if killer and killer != 'kernel':
        return str(killer)
    return None


def run(cfg, now=None, journalctl=None, dmesg=None, root='/'):
    """One collector pass. Returns (state, events kept, messages)."""
    now = time.time() if now is None else now
    state, msg = load_state(cfg['state_file'])
    messages = [msg] if msg else []
    first = 'reader' not in state
    baseline = first and not cfg['count_existing']
    reader_state = state.get('reader')
    if not isinstance(reader_state, dict) or reader_state.get('version') != READER_STATE_VERSION:
        reader_state = {'version': READER_STATE_VERSION, 'files': {}}
    reader = SourceReader(root=root, state=reader_state, workers=1, now=now, journalctl=journalctl, dmesg=dmesg,
                          # a baseline only needs the newest events for the JSON file
                          max_events=cfg['max_events'] if baseline else None)
    if cfg['enrich']:
        reader.collector.refine = make_refiner(root)
    reader.run(cfg['sources'], cfg['paths'] or None)
    new_events = reader.collector.events()
    read_errors = sum(int(st.get('errors') or 0) for st in reader.stats)
    for st in reader.stats:
        if st.get('status') not in ('ok', 'missing'):
            messages.append('%s: %s' % (st.get('name'), st.get('status')))

    totals = dict((c, 0) for c in CAUSES)
    totals.update(state.get('totals') or {})
    userspace = dict(state.get('userspace') or {})
    seen = list(state.get('seen') or [])
    pending = list(state.get('pending') or [])
    kept = list(state.get('events') or [])
    last_kill = state.get('last_kill')
    counted = 0

    def count(ev, cause, epoch):
        nonlocal last_kill, counted
        killer = _userspace_killer(ev)
        if killer:
            userspace[killer] = userspace.get(killer, 0) + 1
        else:
            totals[cause if cause in totals else 'unknown'] = totals.get(cause if cause in totals else 'unknown', 0) + 1
            counted += 1
        if epoch is not None and (last_kill is None or epoch > last_kill):
            last_kill = epoch

    still_pending = []
    for ev in new_events:
        epoch = _ep(ev)
        ident = _identity(ev, epoch)
        if any(_same(ident, s) for s in seen):
            continue
        if baseline:
            # the history already in the log: kept for the next diagnosis run, not counted
            seen.append(ident)
            kept.append(ev)
            continue
        if _victimless(ev) and not _userspace_killer(ev):
            still_pending.append({'identity': ident, 'cause': ev.get('cause'), 'epoch': epoch,
                                  'uptime': ev.get('uptime'), 'event': ev})
            continue
        if _is_kill(ev) and ev.get('invoker') is None:
            # a kill line whose report was read by the previous run (cut at its end)
            match = None
            for p in pending:
                near = (p['uptime'] is not None and ev.get('uptime') is not None and
                        0 <= ev['uptime'] - p['uptime'] <= PENDING_MERGE_SECONDS) or \
                       (p['epoch'] is not None and epoch is not None and 0 <= epoch - p['epoch'] <= PENDING_MERGE_SECONDS)
                if near and (not p['identity'][0] or not ident[0] or p['identity'][0] == ident[0]):
                    match = p
                    break
            if match is not None:
                pending.remove(match)
                merged = dict(match['event'])
                for k, v in ev.items():
                    if merged.get(k) is None and v is not None:
                        merged[k] = v
                merged['killed_pid'] = ev['killed_pid']
                merged['killed_comm'] = ev.get('killed_comm')
                seen.append(ident)
                count(merged, match['cause'] if ev.get('cause') in (None, 'unknown') else ev.get('cause'), epoch)
                kept.append(merged)
                continue
        seen.append(ident)
        if _is_kill(ev) or _userspace_killer(ev):
            count(ev, ev.get('cause'), epoch)
        kept.append(ev)
    # reports left without a kill line for a whole run: the kernel decided, the kill line never came
    for p in pending:
        seen.append(p['identity'])
        count(p['event'], p['cause'], p['epoch'])
        kept.append(p['event'])
    pending = still_pending

    max_events = cfg['max_events']
    kept = kept[-max_events:] if max_events else []
    state.update({
        'version': STATE_VERSION,
        'reader': reader.new_state,
        'totals': totals,
        'userspace': userspace,
        'seen': seen[-SEEN_KEEP:],
        'pending': pending,
        'events': kept,
        'last_kill': last_kill,
        'read_errors': int(state.get('read_errors') or 0) + read_errors,
        'runs': int(state.get('runs') or 0) + 1,
        'last_success': now,
        'installed': state.get('installed') or now,
        'last_new_kills': counted,
    })
    return state, messages


def render_textfile(state):
    """The node_exporter textfile (Prometheus text format 0.0.4). Labels: cause, killer only."""
    out = []

    def family(name, kind, text, samples):
        out.append('# HELP %s %s' % (name, text))
        out.append('# TYPE %s %s' % (name, kind))
        for labels, value in samples:
            lab = ','.join('%s="%s"' % (k, _escape(v)) for k, v in labels)
            out.append('%s%s %s' % (name, '{%s}' % lab if lab else '', _num(value)))

    totals = state.get('totals') or {}
    family('oomkit_oom_kills_total', 'counter',
           'Kernel OOM kills seen by the oomkit watcher since it was installed, by cause.',
           [((('cause', c),), totals.get(c, 0)) for c in CAUSES] +
           [((('cause', c),), n) for c, n in sorted(totals.items()) if c not in CAUSES])
    family('oomkit_oom_last_kill_timestamp_seconds', 'gauge',
           'Time of the newest OOM kill seen (0: none yet).', [((), state.get('last_kill') or 0)])
    family('oomkit_userspace_oom_kills_total', 'counter',
           'Kills by userspace OOM killers (systemd-oomd, earlyoom, nohang) seen by the watcher, by killer.',
           [((('killer', k),), n) for k, n in sorted((state.get('userspace') or {}).items())])
    family('oomkit_watch_last_success_timestamp_seconds', 'gauge',
           'Time of the last collector run that completed.', [((), state.get('last_success') or 0)])
    family('oomkit_watch_read_errors_total', 'counter',
           'Log read errors met by the collector (unreadable or partial sources).',
           [((), state.get('read_errors') or 0)])
    family('oomkit_watch_runs_total', 'counter', 'Collector runs that completed.', [((), state.get('runs') or 0)])
    return '\n'.join(out) + '\n'


def _escape(v):
    return str(v).replace('\\', '\\\\').replace('\n', '\\n').replace('"', '\\"')


def _num(v):
    if isinstance(v, float):
        return repr(round(v, 3))
    return str(int(v))


def render_events(state):
    """The newest events as JSON (reports still waiting for their kill line last)."""
    events = list(state.get('events') or []) + [p['event'] for p in state.get('pending') or []]
    return json.dumps({'version': 1, 'updated': state.get('last_success'), 'events': events},
                      indent=1, sort_keys=True, default=str) + '\n'


def apply_budget(cfg):
    """Under cron there is no unit to set these: the collector lowers its own priority."""
    try:
        with open('/proc/self/oom_score_adj', 'w') as f:
            f.write('%d\n' % cfg['oom_score_adj'])
    except (IOError, OSError):
        pass
    try:
        os.nice(max(0, cfg['nice'] - os.nice(0)))
    except OSError:
        pass


def main(argv=None):
    ap = argparse.ArgumentParser(description='oomkit watch collector (one incremental pass)')
    ap.add_argument('--config', default=DEFAULT_CONFIG)
    ap.add_argument('--apply-budget', action='store_true',
                    help='set our own oom_score_adj and nice value (cron; systemd does it from the unit)')
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        sys.stderr.write('oomkit-watch: %s\n' % e)
        return 1
    if args.apply_budget:
        apply_budget(cfg)
    state_dir = os.path.dirname(cfg['state_file'])
    try:
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
        lock = open(cfg['state_file'] + '.lock', 'a')  # pylint: disable=consider-using-with
    except (IOError, OSError) as e:
        sys.stderr.write('oomkit-watch: %s: %s\n' % (state_dir, e))
        return 1
    with lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError):
            sys.stderr.write('oomkit-watch: another run holds %s.lock; nothing done\n' % cfg['state_file'])
            return 0
        try:
            state, messages = run(cfg)
            # outputs first, state last: a failure here leaves the old state, and the next run
            # reads the same lines again (counted once: their kills are not in the old state)
            atomic_write(cfg['textfile'], render_textfile(state), 0o644)
            atomic_write(cfg['events_file'], render_events(state), 0o640)
            atomic_write(cfg['state_file'], json.dumps(state, sort_keys=True, default=str), 0o600)
        except (IOError, OSError) as e:
            sys.stderr.write('oomkit-watch: %s\n' % e)
            return 1
    for m in messages:
        sys.stderr.write('oomkit-watch: %s\n' % m)
    sys.stdout.write('oomkit-watch: %d new kill(s); totals %s\n' % (
        state['last_new_kills'], ', '.join('%s=%d' % kv for kv in sorted(state['totals'].items()) if kv[1])
        or 'all 0'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
