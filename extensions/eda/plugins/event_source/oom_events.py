# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""oom_events: an ansible-rulebook event source that follows the kernel log and emits one event
per new OOM decision, parsed and classified by the collection's own parser (module_utils)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time

DOCUMENTATION = r"""
---
short_description: Follow the kernel log and emit one event per new OOM-killer decision.
description:
  - An ansible-rulebook event source plugin. It follows the kernel's log (the journal, log files with their
    rotation, or the kernel ring buffer C(/dev/kmsg)) and puts one event on the queue for each new OOM
    decision of the kernel, with the fields and the cause that M(oomkit.linux.oom_facts) returns for it.
  - The log is read incrementally every O(poll_interval) seconds with the same reader as the watch role's
    collector (journal cursor, file offsets with rotation and compression detected, C(/dev/kmsg) sequence
    numbers). A report that the read cut before its kill line is held back until the kill line comes.
  - With O(cursor_file) the position and the identities of the decisions already emitted are saved after
    every event, so a restart of ansible-rulebook resumes where it stopped and neither drops nor repeats an
    event, even when it stopped between emitting an event and saving the position.
  - Each event is C({"oom": {...}, "meta": {"hosts": ...}}). C(meta.hosts) lets C(run_playbook) run on the
    host that had the kill only. Besides the event fields of M(oomkit.linux.oom_facts), C(oom) carries
    C(killed) (true when a process was killed; false for a report without a killable process, or a panic),
    C(unit) (the systemd service or scope of the victim's cgroup, or null) and C(unit_kills) (kills of that
    unit within O(repeat_window) seconds, this one included), so that a rule can tell a unit that keeps
    being killed.
  - Needs to read the kernel log, so it usually runs as root (or in the C(systemd-journal) or C(adm) group
    for the journal and the log files).
  - The collection's C(module_utils) are imported from the collection this file belongs to (an
    C(ansible_collections/oomkit/linux) tree, as C(ansible-galaxy collection install) makes); they need the
    Python standard library only.
options:
  sources:
    description:
      - Where to read from, V(auto), V(journal), V(files) or V(dmesg) (C(/dev/kmsg)), as M(oomkit.linux.oom_facts).
      - V(auto) reads the journal when journald runs, else the default log files plus the kernel ring buffer;
        with O(paths), V(files).
    type: list
    elements: str
    default: [auto]
  paths:
    description:
      - Files or globs for V(files). Give a glob that matches the rotated files too (V(/var/log/kern.log*)),
        so that lines written just before a rotation are still read.
    type: list
    elements: str
    default: []
  cursor_file:
    description:
      - File where the position and the recently emitted decisions are kept (written atomically). Without it,
        every start is a first start (see O(since)).
    type: str
  since:
    description:
      - What a first start (no O(cursor_file), or an empty one) emits.
      - V(now) (the default) emits nothing of what the log already holds, only what comes next.
      - V(all) replays every decision the log still holds.
      - A time (V(1h), V(7d), V(2026-12-01T00:00:00), epoch seconds) replays the decisions since then (and those
        without a date, from a log that has only the kernel's uptime stamps, as M(oomkit.linux.oom_facts) does).
      - Ignored when O(cursor_file) has a position: then the source resumes from it.
    type: str
    default: now
  poll_interval:
    description: Seconds between two reads of the log.
    type: float
    default: 2
  repeat_window:
    description: Seconds over which the kills of one unit are counted in C(unit_kills).
    type: int
    default: 3600
  hosts:
    description:
      - Value of C(meta.hosts) of every event (an inventory host name, to limit C(run_playbook) to it).
      - By default the host name the log line carries (a central syslog server's files hold many hosts),
        else this machine's host name.
    type: str
  enrich:
    description: Refine memory-cgroup causes with the live cgroup tree when the log lacks the cgroup paths.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: OOM kills on this host
  hosts: all
  sources:
    - oomkit.linux.oom_events:
        cursor_file: /var/lib/oomkit/oom_events.cursor
  rules:
    - name: Diagnose the host that had a kill
      condition: event.oom.killed == true
      action:
        run_playbook:
          name: oomkit.linux.diagnose

- name: OOM kills from a central syslog server's files, with their rotated copies
  hosts: all
  sources:
    - oomkit.linux.oom_events:
        sources: [files]
        paths: [/var/log/remote/*/kern.log*]
        cursor_file: /var/lib/oomkit/remote.cursor
        since: 1h
  rules:
    - name: Print them
      condition: event.oom.cause is defined
      action:
        print_event:
"""


def _import_collection():
    """Make ``ansible_collections.oomkit.linux`` importable from the tree this file is in."""
    try:
        import ansible_collections.oomkit.linux.plugins.module_utils.oom_watch  # noqa: F401 pylint: disable=unused-import
        return
    except ImportError:
        pass
    here = os.path.abspath(__file__)
    root = here
    for _dummy in range(5):  # extensions/eda/plugins/event_source/oom_events.py -> the collection root
        root = os.path.dirname(root)
    parts = root.split(os.sep)
    if parts[-3:-2] != ['ansible_collections']:
        raise ImportError('oomkit.linux.oom_events: %s is not inside an ansible_collections/oomkit/linux tree' % here)
    sys.path.insert(0, os.sep.join(parts[:-3]) or os.sep)


_import_collection()

# pylint: disable=wrong-import-position
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import atomic_write  # noqa: E402
from ansible_collections.oomkit.linux.plugins.module_utils.oom_watch import (  # noqa: E402
    STATE_VERSION,
    Follower,
    event_epoch,
    is_kill,
    load_json_state,
    unit_of,
)


class _Cursor(object):
    """The Follower's state in ``cursor_file`` (or nowhere)."""

    def __init__(self, path):
        self.path = path

    def load(self):
        if not self.path:
            return None, None
        return load_json_state(self.path, STATE_VERSION)

    def save(self, state):
        if self.path:
            import json  # pylint: disable=import-outside-toplevel
            atomic_write(self.path, json.dumps(state, sort_keys=True, default=str), 0o600)


def _as_list(value):
    """A list, from a list, a comma-separated string, or the text of a list (a rendered variable)."""
    if value in (None, ''):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith('['):
            import ast  # pylint: disable=import-outside-toplevel
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise ValueError('oomkit.linux.oom_events: cannot read the list %r' % text)
        else:
            return [v.strip() for v in text.split(',') if v.strip()]
    return list(value)


def _check(args):
    def fail(opt, why):
        raise ValueError('oomkit.linux.oom_events: %s %s' % (opt, why))
    sources = _as_list(args.get('sources')) or ['auto']
    paths = _as_list(args.get('paths'))
    if any(not isinstance(p, str) or not p.startswith('/') for p in paths):
        fail('paths', 'must be absolute paths or globs')
    try:
        poll = float(args.get('poll_interval', 2))
        window = int(args.get('repeat_window', 3600))
    except (TypeError, ValueError):
        fail('poll_interval/repeat_window', 'must be numbers')
    if not 0.1 <= poll <= 3600:
        fail('poll_interval', 'must be from 0.1 to 3600 seconds')
    if window < 0:
        fail('repeat_window', 'must be 0 or more seconds')
    cursor = args.get('cursor_file')
    if cursor is not None and (not isinstance(cursor, str) or not cursor.startswith('/')):
        fail('cursor_file', 'must be an absolute path')
    enrich = args.get('enrich', True)
    if isinstance(enrich, str):
        enrich = enrich.lower() in ('1', 'true', 'yes', 'on')
    return sources, paths, poll, window, cursor, bool(enrich)


def _build_event(ev, follower, window, hosts, now):
    unit = unit_of(ev)
    kills = follower.extra.setdefault('unit_kills', {})
    count = 0
    if unit and is_kill(ev):
        epoch = event_epoch(ev) or now
        times = [t for t in kills.get(unit, []) if t >= now - window] + [epoch]
        kills[unit] = times[-1000:]
        count = len([t for t in times if t >= now - window])
    for name in list(kills):
        kills[name] = [t for t in kills[name] if t >= now - window]
        if not kills[name]:
            del kills[name]
    body = dict(ev)
    body['killed'] = is_kill(ev)
    body['unit'] = unit
    body['unit_kills'] = count
    return {'oom': body, 'meta': {'hosts': hosts or ev.get('host') or socket.gethostname()}}


async def main(queue, args):
    """Follow the kernel log and put one event per new OOM decision on ``queue``."""
    sources, paths, poll, window, cursor_path, enrich = _check(args)
    cursor = _Cursor(cursor_path)
    state, msg = cursor.load()
    if msg:
        sys.stderr.write('oomkit.linux.oom_events: %s\n' % msg)
    follower = Follower(state, sources=sources, paths=paths, since=str(args.get('since') or 'now'), enrich=enrich)
    loop = asyncio.get_running_loop()
    while True:
        # the reading blocks (files, journalctl, /dev/kmsg): done in a worker thread
        decisions = await loop.run_in_executor(None, follower.poll)
        now = time.time()
        for ev in decisions:
            await queue.put(_build_event(ev, follower, window, args.get('hosts'), now))
            follower.handed_out(ev)
            cursor.save(follower.state)
        follower.commit()
        cursor.save(follower.state)
        await asyncio.sleep(poll)


if __name__ == '__main__':
    # python3 oom_events.py [PATH...]: print the events of the given files (or of the kernel log)
    class _PrintQueue(object):
        async def put(self, event):
            print(event)  # noqa: T201

    asyncio.run(main(_PrintQueue(), {'sources': ['files'] if sys.argv[1:] else ['auto'], 'paths': sys.argv[1:],
                                     'since': 'all'}))
