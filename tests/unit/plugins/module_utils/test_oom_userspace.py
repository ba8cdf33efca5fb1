# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Userspace OOM killers go to userspace_events, never to the kernel events.  Message formats from
the projects' sources: systemd src/oom/oomd-manager.c, earlyoom kill.c, nohang src/nohang."""

from __future__ import annotations

import io
import json
import os

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import oom_log
from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import (
    EventCollector,
    OomParser,
    parse_text,
    scan_file,
)

# the one copy of the killers' messages (also logged through the real journal by
# tools/capture-oom-fixtures.py)
with open(os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'userspace_killers.json')) as _handle:
    KILLERS = json.load(_handle)
OOMD_PRESSURE = KILLERS['systemd-oomd']['pressure']
OOMD_SWAP = KILLERS['systemd-oomd']['swap']
EARLY_LOW = KILLERS['earlyoom']['low']
EARLY = KILLERS['earlyoom']['kill']
NOHANG = KILLERS['nohang']['kill']


def syslog(prog, msg, pid=77):
    return 'Dec  2 09:00:01 node-a %s[%d]: %s\n' % (prog, pid, msg)


def text():
    out = [syslog('systemd-oomd', OOMD_PRESSURE), syslog('systemd-oomd', OOMD_SWAP),
           syslog('earlyoom', EARLY_LOW), syslog('earlyoom', EARLY)]
    out += [syslog('nohang', line) for line in NOHANG]
    # a kernel kill in the same log, and programs that only echo the killers' words
    out.append('Dec  2 09:00:02 node-a kernel: [  50.000001] Out of memory: Killed process 9 (x) total-vm:1kB, '
               'anon-rss:1kB, file-rss:0kB\n')
    out.append(syslog('sshd', EARLY))
    out.append(syslog('kernel', OOMD_SWAP))
    return ''.join(out)


def test_userspace_kills_are_kept_apart():
    got = []
    evs, summary = parse_text(text(), userspace=got)
    assert [e['killed_pid'] for e in evs] == [9] and summary['total'] == 1 and summary['userspace_total'] == 4
    by = dict(((u['killer'], u['reason']), u) for u in got)
    oomd = by[('systemd-oomd', 'memory_pressure')]
    assert oomd['cgroup'].endswith('/leaky.service') and oomd['unit'] == 'leaky.service'
    assert oomd['signal'] == 'SIGKILL' and '63.64% > 50.00%' in oomd['detail'] and oomd['line'] == 1
    swap = by[('systemd-oomd', 'swap')]
    assert swap['unit'] == 'batch.service' and swap['victim_pid'] is None
    early = by[('earlyoom', 'low_memory_and_swap')]
    assert (early['victim_pid'], early['victim_comm'], early['signal']) == (4242, 'leaky (x)', 'SIGTERM')
    assert 'mem 10.00%' in early['detail'] and early['host'] == 'node-a' and early['time']
    nohang = by[('nohang', 'low_memory_and_swap')]
    assert (nohang['victim_pid'], nohang['victim_comm'], nohang['signal']) == (5151, 'stress', 'SIGTERM')
    assert nohang['cgroup'] == '/user.slice/user-1000.slice/session-3.scope' and nohang['unit'] == 'session-3.scope'
    assert all(u['source'] == 'text' and u['sources'] == ['text'] for u in got)


@pytest.mark.parametrize('block', [2048, 4096, 1 << 20])  # nohang's victim lines are read from the look-back
def test_userspace_kills_survive_any_block_size(block):
    got = []
    coll = EventCollector()
    parser = OomParser('t', coll.add, emit_userspace=got.append)
    oom_log.scan_stream(io.BytesIO(text().encode()), parser, block_size=block)
    parser.close()
    assert sorted((u['killer'], u['victim_pid'] or 0) for u in got) == [
        ('earlyoom', 4242), ('nohang', 5151), ('systemd-oomd', 0), ('systemd-oomd', 0)]


def test_parallel_workers_send_their_userspace_kills_back(tmp_path, monkeypatch):
    monkeypatch.setattr(oom_log, 'PARALLEL_MIN_BYTES', 1)
    noise = ''.join('Dec  2 09:00:00 node-a cron[1]: job %d\n' % i for i in range(3000))
    path = tmp_path / 'syslog'
    path.write_text(noise + text() + noise + text())
    coll = EventCollector()
    parser = OomParser(str(path), coll.add, emit_userspace=coll.add_userspace)
    scan_file(str(path), parser, workers=2, block_size=1 << 14,
              parser_factory=lambda emit, st: OomParser(str(path), emit, stats=st, emit_userspace=coll.add_userspace))
    parser.close()
    lines = sorted(u['line'] for u in coll.userspace_events())
    assert len(lines) == 8 and lines[4] > 3000 + 15
    assert coll.userspace_total == 8 and coll.summary()['total'] == 2


def test_untagged_shapes_in_journalctl_cat_output():
    got = []
    parse_text(OOMD_PRESSURE + '\n' + EARLY + '\n', userspace=got)
    assert [u['killer'] for u in got] == ['systemd-oomd', 'earlyoom']


def test_userspace_fixture_has_no_kernel_events():
    fixtures = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'oom_logs')
    with open(os.path.join(fixtures, 'userspace-only.log'), 'rb') as f:
        evs, dummy = parse_text(f.read())
    assert evs == []
