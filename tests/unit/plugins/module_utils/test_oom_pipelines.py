# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real OOM kills on the test machine, as every log pipeline here printed them.

fixtures/oom_pipelines/ was made by tools/capture-oom-fixtures.py: MANIFEST.json tells per file the
exact command that made it, and the kills that happened (pid, name, cgroups).  The expected events
come from that manifest, never from the parser."""

from __future__ import annotations

import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import EventCollector, OomParser, scan_file
from ansible_collections.oomkit.linux.plugins.modules import oom_facts

PIPELINES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'oom_pipelines')
with open(os.path.join(PIPELINES, 'MANIFEST.json'), encoding='utf-8') as _f:
    MANIFEST = json.load(_f)
KILLS = MANIFEST['kills']
FILES = sorted(MANIFEST['files'])


def kills_of(name):
    """The kills a file shows: those of the capture that made it (a file made by a later run of the
    capture tool, such as the --no-hostname renders, has its own list in its manifest entry)."""
    return MANIFEST['files'][name].get('kills', KILLS)


# renderers that print the rest of a record holding a newline with nothing that marks it as the
# rest (no stamp, no alignment): the invoker's name keeps only its last line there
INVOKER_SPLIT = ('dmesg-time-format-notime.log', 'journalctl-k-cat.log', 'journalctl-k-export.log.gz')


def _run_module(path, capsys):
    with patch_module_args({'sources': ['files'], 'paths': [path], 'enrich': False, 'gather_config': False}):
        with pytest.raises(SystemExit) as exc:
            oom_facts.main()
    out = json.loads(capsys.readouterr().out)
    assert exc.value.code == 0, out
    return out['ansible_facts']['oom']


def test_manifest_lists_every_fixture_with_its_command():
    on_disk = sorted(n for n in os.listdir(PIPELINES) if n != 'MANIFEST.json')
    assert on_disk == FILES
    assert all(MANIFEST['files'][n]['command'] for n in FILES)
    for name in FILES:
        kills = kills_of(name)
        assert len(kills) == 4 and all(k['signal'] == 9 for k in kills)
        assert [k['comm'] for k in kills] == [k['comm'] for k in KILLS]


@pytest.mark.parametrize('name', FILES)
def test_every_real_kill_is_one_event_with_its_cause(name, capsys):
    oom = _run_module(os.path.join(PIPELINES, name), capsys)
    kills = kills_of(name)
    ours = dict((e['killed_pid'], e) for e in oom['events'] if e['killed_pid'] in set(k['pid'] for k in kills))
    for kill in kills:
        ev = ours.get(kill['pid'])
        assert ev is not None, (name, kill)
        assert ev['killed_comm'] == kill['comm'], (name, ev['killed_comm'])
        # each test process allocated until it was killed: it is its own invoker
        want_invoker = kill['comm'].split('\n')[-1] if name in INVOKER_SPLIT else kill['comm']
        assert ev['invoker'] == want_invoker, (name, ev['invoker'])
        want = 'parent_cgroup_limit' if kill['memcg'] != kill['task_memcg'] else 'cgroup_limit'
        assert ev['cause'] == want, (name, ev['evidence'])
        assert ev['memcg'] == kill['memcg'] and ev['task_memcg'] == kill['task_memcg']
    # one event per kill: no second event for any of them (a split name line included)
    pids = [e['killed_pid'] for e in oom['events']]
    assert all(pids.count(k['pid']) == 1 for k in kills)
    assert not [e for e in oom['events'] if e['killed_pid'] is None and e['invoker'] in [k['comm'] for k in kills]]
    # the journal's short modes name the host unless --no-hostname; the time is always there
    for kill in kills:
        ev = ours[kill['pid']]
        if name.startswith('journalctl-k-short') or name == 'journalctl-k-with-unit.log':
            assert ev['host'] == (None if 'no-hostname' in name else MANIFEST['host']), (name, ev['host'])
            # short-monotonic prints the uptime instead of a wall-clock time
            assert ev['uptime'] if 'monotonic' in name else ev['time'], name


def _collect(named):
    coll = EventCollector()
    coll.local_host = MANIFEST['host']
    for source, name in named:
        parser = OomParser(source, coll.add, emit_userspace=coll.add_userspace)
        scan_file(os.path.join(PIPELINES, name), parser)
        parser.close()
    return coll


@pytest.mark.parametrize('text_log', ['rsyslog-traditional.log', 'rsyslog-imklog-traditional.log', 'syslog-ng.log',
                                      'rsyslog-euleros-pipe.log'])
def test_forged_kernel_line_is_unverified_against_the_journal_kernel_records(text_log):
    # logger -t kernel wrote "Out of memory: Killed process 1 (systemd)" through journald's syslog
    # socket; rsyslog (imjournal) wrote it to its file as a kernel line; the journal's own kernel
    # records (journalctl -k -o json) do not have it.  imklog and syslog-ng read the kernel's
    # records themselves: they never had the forged line, and their copies of the real kills
    # (a name with a newline split in two lines by imklog) match the journal's.
    coll = _collect([('journal', 'journalctl-k-json.json'), ('/var/log/syslog', text_log)])
    with open(os.path.join(PIPELINES, 'journalctl-k-json.json'), 'rb') as f:
        first = int(json.loads(f.readline())['__REALTIME_TIMESTAMP']) / 1e6
    coll.mark_kernel_source('journal', first)
    evs = coll.events()
    by_pid = dict((e['killed_pid'], e) for e in evs)
    if text_log in ('rsyslog-traditional.log', 'rsyslog-euleros-pipe.log'):
        assert by_pid[1]['verified'] is False and by_pid[1]['sources'] == ['/var/log/syslog']
    else:
        assert 1 not in by_pid
    assert len(evs) == len(by_pid)
    for kill in KILLS:
        assert by_pid[kill['pid']]['verified'] is True
        assert set(by_pid[kill['pid']]['sources']) == {'journal', '/var/log/syslog'}


@pytest.mark.parametrize('name', ['journalctl-all-json.json', 'journalctl-all-short.log', 'rsyslog-traditional.log'])
def test_userspace_killers_from_real_pipelines(name):
    coll = _collect([(name, name)])
    got = sorted((u['killer'], u['reason'], u['victim_pid']) for u in coll.userspace_events())
    assert got == [('earlyoom', 'low_memory_and_swap', 4242), ('nohang', 'low_memory_and_swap', 5151),
                   ('systemd-oomd', 'memory_pressure', None), ('systemd-oomd', 'swap', None)], got
    assert all(e['killed_pid'] not in (4242, 5151) for e in coll.events())
