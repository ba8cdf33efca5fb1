# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The oomkit.linux.oom_events source's since/replay and cursor rules, driven through its own
``main()`` on real kernel reports in a rotated log file (tests/eda runs it inside the real
ansible-rulebook on real kills)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
SOURCE = os.path.join(ROOT, 'extensions', 'eda', 'plugins', 'event_source', 'oom_events.py')
FIXTURES = os.path.join(ROOT, 'tests', 'unit', 'fixtures', 'oom_logs')


def load_source():
    spec = importlib.util.spec_from_file_location('oomkit_oom_events', SOURCE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fixture(name):
    with open(os.path.join(FIXTURES, name), 'rb') as f:
        return f.read()


OWN = fixture('dmesg-6.18-memcg-v1-own-limit.log')          # pid 12039
PARENT = fixture('dmesg-6.18-memcg-v1-parent-limit.log')    # pids 12672, 12874
FRAG = fixture('kernel-4.14-global-fragmentation.log')      # pid 4410


class Queue(object):
    def __init__(self):
        self.events = []

    async def put(self, event):
        self.events.append(event)


def run_source(args, polls=2):
    """Run main() for a few polls, then cancel it (as ansible-rulebook does at shutdown)."""
    mod = load_source()
    queue = Queue()

    async def go():
        task = asyncio.ensure_future(mod.main(queue, dict(args, poll_interval=0.1)))
        await asyncio.sleep(0.1 * polls + 0.5)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    asyncio.run(go())
    return [e['oom']['killed_pid'] for e in queue.events], queue.events


@pytest.fixture
def log(tmp_path):
    d = tmp_path / 'log'
    d.mkdir()
    return d


def test_since_now_all_and_a_time(log, tmp_path):
    (log / 'kern.log').write_bytes(OWN + PARENT)
    args = {'sources': ['files'], 'paths': [str(log / 'kern.log*')], 'enrich': False}
    assert run_source(args)[0] == []                          # now: only what comes next
    assert run_source(dict(args, since='all'))[0] == [12039, 12672, 12874]
    # a time bound: these kills carry no date (dmesg uptime only), and what has no date cannot be
    # left out by a time: replayed, as oom_facts' since does
    assert run_source(dict(args, since='1h'))[0] == [12039, 12672, 12874]
    (log / 'dated.log').write_bytes(fixture('kernel-5.10-openeuler-rfc3339.log'))
    dated = {'sources': ['files'], 'paths': [str(log / 'dated.log')], 'enrich': False}
    assert run_source(dict(dated, since='2026-11-25T00:00:00Z'))[0] == [88123]
    assert run_source(dict(dated, since='2026-11-26T00:00:00Z'))[0] == []


def test_restart_with_the_cursor_neither_drops_nor_repeats(log, tmp_path):
    cursor = str(tmp_path / 'cursor.json')
    args = {'sources': ['files'], 'paths': [str(log / 'kern.log*')], 'enrich': False, 'cursor_file': cursor,
            'hosts': 'web-7'}
    (log / 'kern.log').write_bytes(OWN)
    assert run_source(args)[0] == []                          # first start, since=now: the position
    with open(str(log / 'kern.log'), 'ab') as f:
        f.write(PARENT)                                       # logged while the source is down
    pids, events = run_source(args)
    assert pids == [12672, 12874]
    assert events[0]['meta'] == {'hosts': 'web-7'}
    assert events[0]['oom']['killed'] is True
    assert events[0]['oom']['cause'] == 'parent_cgroup_limit'
    # restart: nothing again, though since=all (the cursor wins)
    assert run_source(dict(args, since='all'))[0] == []
    # rotated while down, with a kill just before the rotation and one after
    with open(str(log / 'kern.log'), 'ab') as f:
        f.write(FRAG)
    os.rename(str(log / 'kern.log'), str(log / 'kern.log.1'))
    (log / 'kern.log').write_bytes(OWN.replace(b'12039', b'22039'))
    assert sorted(run_source(args)[0]) == [4410, 22039]
    assert run_source(args)[0] == []
    state = json.loads(open(cursor).read())
    assert state['version'] == 1 and state['reader']['files']


def test_unit_kills_count_the_kills_of_one_unit(log, tmp_path):
    report = OWN.replace(b'/ceo_oomtest', b'/system.slice/web.service')
    assert report != OWN
    text = b''.join(report.replace(b'12039', str(12039 + k).encode()).replace(
        b'205.0', ('%d.0' % (205 + k)).encode()) for k in range(3))
    (log / 'kern.log').write_bytes(text)
    _pids, events = run_source({'sources': ['files'], 'paths': [str(log / 'kern.log')], 'enrich': False,
                                'since': 'all'})
    assert [e['oom']['unit'] for e in events] == ['web.service'] * 3
    assert [e['oom']['unit_kills'] for e in events] == [1, 2, 3]


def test_bad_arguments_name_the_option():
    mod = load_source()
    with pytest.raises(ValueError, match='poll_interval'):
        mod._check({'poll_interval': 0})                      # pylint: disable=protected-access
    with pytest.raises(ValueError, match='cursor_file'):
        mod._check({'cursor_file': 'relative'})               # pylint: disable=protected-access
    with pytest.raises(ValueError, match='paths'):
        mod._check({'paths': ['x']})                          # pylint: disable=protected-access
    assert mod._check({'sources': "['dmesg']"})[0] == ['dmesg']  # pylint: disable=protected-access
