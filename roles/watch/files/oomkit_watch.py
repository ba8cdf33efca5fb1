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
import fcntl
import json
import os
import sys
import time

# The role installs this file as <lib>/oomkit_watch.py with the collection's module_utils under
# <lib>/ansible_collections/oomkit/linux/plugins/module_utils/ (implicit namespace packages).
_LIB = os.path.dirname(os.path.abspath(__file__))
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

# pylint: disable=wrong-import-position
from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import CAUSES  # noqa: E402
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import atomic_write  # noqa: E402
from ansible_collections.oomkit.linux.plugins.module_utils.oom_watch import (  # noqa: E402
    SOURCES,
    Follower,
    event_epoch,
    is_kill,
    load_json_state,
    userspace_killer,
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

def load_state(path):
    """Our state: a missing file is a fresh start; a damaged one too, but it is kept aside."""
    st, msg = load_json_state(path, STATE_VERSION)
    return (st if st is not None else {'version': STATE_VERSION}), msg


# --------------------------------------------------------------------------------------------
# one run
# --------------------------------------------------------------------------------------------

def run(cfg, now=None, journalctl=None, dmesg=None, root='/'):
    """One collector pass: read what is new, count it. Returns (state, messages)."""
    now = time.time() if now is None else now
    state, msg = load_state(cfg['state_file'])
    messages = [msg] if msg else []
    follower = Follower(state.get('follow'), sources=cfg['sources'], paths=cfg['paths'],
                        since='all' if cfg['count_existing'] else 'now', enrich=cfg['enrich'], root=root,
                        journalctl=journalctl, dmesg=dmesg)
    decisions = follower.poll(now=now, baseline_keep=cfg['max_events'])
    messages.extend(follower.messages)

    totals = dict((c, 0) for c in CAUSES)
    totals.update(state.get('totals') or {})
    userspace = dict(state.get('userspace') or {})
    kept = list(state.get('events') or []) + list(follower.baseline_events)
    last_kill = state.get('last_kill')
    counted = 0
    for ev in decisions:
        follower.handed_out(ev)
        kept.append(ev)
        if not is_kill(ev):
            continue  # no killable task, or a panic: an OOM decision without a kill
        killer = userspace_killer(ev)
        if killer:
            userspace[killer] = userspace.get(killer, 0) + 1
        else:
            cause = ev.get('cause') if ev.get('cause') in totals else 'unknown'
            totals[cause] = totals.get(cause, 0) + 1
            counted += 1
        epoch = event_epoch(ev)
        if epoch is not None and (last_kill is None or epoch > last_kill):
            last_kill = epoch
    follower.commit()
    max_events = cfg['max_events']
    kept = kept[-max_events:] if max_events else []
    state.update({
        'version': STATE_VERSION,
        'follow': follower.state,
        'totals': totals,
        'userspace': userspace,
        'events': kept,
        'last_kill': last_kill,
        'read_errors': int(state.get('read_errors') or 0) + follower.read_errors,
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
    events = list(state.get('events') or []) + [p['event'] for p in (state.get('follow') or {}).get('pending') or []]
    return json.dumps({'version': 1, 'updated': state.get('last_success'), 'events': events},
                      indent=1, sort_keys=True, default=str) + '\n'


# ioprio_set(2) numbers: x86_64, aarch64 (asm-generic), i386; IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT
_IOPRIO_SET = {'x86_64': 251, 'aarch64': 30, 'i686': 289, 'i386': 289}
_IOPRIO_IDLE = 3 << 13


def _idle_io():
    nr = _IOPRIO_SET.get(os.uname().machine)
    if nr is None:
        return
    try:
        import ctypes  # pylint: disable=import-outside-toplevel
        ctypes.CDLL(None, use_errno=True).syscall(nr, 1, 0, _IOPRIO_IDLE)  # IOPRIO_WHO_PROCESS, self
    except (OSError, AttributeError, TypeError):
        pass


def apply_budget(cfg):
    """Under cron there is no unit to set these: the collector lowers its own priority (idle I/O,
    nice, a positive oom_score_adj). There is no memory or CPU cap without systemd."""
    _idle_io()
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
