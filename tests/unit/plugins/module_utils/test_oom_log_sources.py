# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sources, incremental state, host config snapshot and live-cgroup enrichment (fixture trees)."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import oom_log, oom_sources
from ansible_collections.oomkit.linux.plugins.module_utils.oom_host import host_config
from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import gather

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'oom_logs')
KILL = ('{ts} h kernel: [{up:12.6f}] Memory cgroup out of memory: Killed process {pid} (app) total-vm:1kB, '
        'anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0\n')


def fx(name):
    with open(os.path.join(FIXTURES, name), 'rb') as f:
        return f.read()


def kill_line(pid, up, ts='2026-11-26T00:00:00+00:00'):
    return KILL.format(ts=ts, up=up, pid=pid).encode()


def noise(n, tag='x'):
    return b''.join(b'2026-11-26T00:00:00+00:00 h sshd[1]: %s noise %d\n' % (tag.encode(), i) for i in range(n))


def pids(res):
    return [e['killed_pid'] for e in res['events']]


def run(tmp_path, paths, **kw):
    kw.setdefault('config', False)
    kw.setdefault('enrich', False)
    return gather(sources=['files'], paths=[str(p) for p in paths], **kw)


def test_files_globs_rotated_gz_oldest_first(tmp_path):
    d = tmp_path / 'log'
    d.mkdir()
    (d / 'messages').write_bytes(noise(5) + kill_line(3, 30.0))
    with gzip.open(str(d / 'messages-20261124.gz'), 'wb') as f:
        f.write(kill_line(1, 10.0))
    (d / 'messages-20261125').write_bytes(kill_line(2, 20.0))
    os.utime(str(d / 'messages-20261124.gz'), (1000, 1000))
    os.utime(str(d / 'messages-20261125'), (2000, 2000))
    res = run(tmp_path, [d / 'messages*'])
    assert [s['name'].rsplit('/', 1)[1] for s in res['sources']] == ['messages-20261124.gz', 'messages-20261125', 'messages']
    assert sorted(pids(res)) == [1, 2, 3]
    assert res['sources'][2]['lines'] == 6 and res['sources'][2]['events'] == 1
    assert all(s['status'] == 'ok' for s in res['sources'])


def test_missing_and_unreadable_are_reported_not_fatal(tmp_path):
    bad = tmp_path / 'bad.gz'
    bad.write_bytes(b'this is not gzip')
    res = run(tmp_path, [tmp_path / 'nope.log', bad])
    st = {s['name'].rsplit('/', 1)[1]: s for s in res['sources']}
    assert st['nope.log']['status'] == 'missing'
    assert st['bad.gz']['status'] in ('unreadable', 'partial') and st['bad.gz']['errors'] == 1
    assert res['summary']['total'] == 0


def _split_report(cut):
    """The real parent-limit report wrapped as syslog lines, cut in two before line ``cut``."""
    lines = [b'Nov 26 03:00:01 db1 kernel: ' + line for line in fx('dmesg-6.18-memcg-v1-parent-limit.log').splitlines(True)]
    return b''.join(lines[:cut]), b''.join(lines[cut:])


@pytest.mark.parametrize('workers', [1, 2])
@pytest.mark.parametrize('cut', [22, 40, 74])   # after the invoked line, inside the task table, before the kill
def test_report_cut_by_rotation_is_one_event(tmp_path, monkeypatch, workers, cut):
    monkeypatch.setattr(oom_sources, 'PARALLEL_MIN_BYTES', 1)
    monkeypatch.setattr(oom_log, 'PARALLEL_MIN_BYTES', 1)
    older, newer = _split_report(cut)
    d = tmp_path / 'log'
    d.mkdir()
    (d / 'messages.1').write_bytes(noise(50) + older)
    (d / 'messages').write_bytes(newer + noise(50))
    os.utime(str(d / 'messages.1'), (1000, 1000))
    res = run(tmp_path, [str(d / 'messages*')], workers=workers)
    first, second = res['events']
    assert (first['source'], first['line']) == (str(d / 'messages.1'), 71)
    assert (first['killed_pid'], first['cause'], first['memcg']) == (12672, 'parent_cgroup_limit', '/ceo_parent')
    assert first['invoker'] == 'python3' and first['killed_oom_score_adj'] == 0
    assert second['killed_pid'] == 12874 and second['cause'] == 'cgroup_limit'
    newer_stat = [s for s in res['sources'] if s['name'] == str(d / 'messages')][0]
    assert any('continued 1 report' in m for m in newer_stat['messages'])


def test_a_report_without_kill_line_inside_a_file_is_always_found(tmp_path):
    # completeness is not an option (the module's thorough is a no-op kept for compatibility)
    cut, dummy = _split_report(40)                      # a rate limit dropped the rest of this report
    whole = b''.join(_split_report(40))
    log = tmp_path / 'messages'
    log.write_bytes(noise(100) + cut + noise(3000, 'y') + whole + noise(100, 'z'))
    res = run(tmp_path, [log])
    found = [(e['line'], e['killed_pid']) for e in res['events']]
    cut_event = (121, None)
    assert cut_event in found
    assert (3161, 12672) in found and (3216, 12874) in found


def test_reports_of_different_logs_are_not_joined(tmp_path):
    older, newer = _split_report(40)
    d = tmp_path / 'log'
    d.mkdir()
    (d / 'kern.log.1').write_bytes(noise(5) + older)
    (d / 'messages').write_bytes(newer)
    os.utime(str(d / 'kern.log.1'), (1000, 1000))
    res = run(tmp_path, [str(d / 'kern.log*'), str(d / 'messages')])
    by_source = {}
    for ev in res['events']:
        by_source.setdefault(ev['source'], []).append(ev)
    assert [e['killed_pid'] for e in by_source[str(d / 'kern.log.1')]] == [None]
    assert [e['killed_pid'] for e in by_source[str(d / 'messages')]] == [12672, 12874]


@pytest.mark.parametrize('path,family', [
    ('/var/log/messages', '/var/log/messages'), ('/var/log/messages.1', '/var/log/messages'),
    ('/var/log/messages-20261120.gz', '/var/log/messages'), ('/var/log/kern.log.2.gz', '/var/log/kern.log'),
    ('/var/log/syslog.old', '/var/log/syslog'), ('/var/log/app-1.log', '/var/log/app-1.log'),
    # files of a log server, one per host: not one log
    ('/srv/logs/node-1', '/srv/logs/node-1'), ('/srv/logs/node-2', '/srv/logs/node-2'),
])
def test_rotation_family(path, family):
    assert oom_sources.rotation_family(path) == family


def test_incremental_append_rotation_truncation_and_check_mode(tmp_path):
    log = tmp_path / 'messages'
    state = tmp_path / 'state.json'
    log.write_bytes(noise(50) + kill_line(1, 1.0))
    r1 = run(tmp_path, [tmp_path / 'messages*'], state_file=str(state))
    assert pids(r1) == [1] and r1['state_written'] and state.exists()
    assert stat.S_IMODE(os.stat(str(state)).st_mode) == 0o600

    # unchanged: nothing read
    r2 = run(tmp_path, [tmp_path / 'messages*'], state_file=str(state))
    assert pids(r2) == [] and r2['sources'][0]['bytes'] == 0 and r2['sources'][0]['incremental']

    # appended: only the new event, line numbers continue
    with open(str(log), 'ab') as f:
        f.write(noise(3) + kill_line(2, 2.0))
    before = state.read_text()
    r_check = run(tmp_path, [tmp_path / 'messages*'], state_file=str(state), update_state=False)
    assert pids(r_check) == [2] and state.read_text() == before  # check mode never moves the cursor
    r3 = run(tmp_path, [tmp_path / 'messages*'], state_file=str(state))
    assert pids(r3) == [2] and r3['events'][0]['line'] == 55

    # rotation: messages -> messages.1 (with a late append), new messages
    with open(str(log), 'ab') as f:
        f.write(kill_line(3, 3.0))
    os.rename(str(log), str(tmp_path / 'messages.1'))
    log.write_bytes(kill_line(4, 4.0))
    r4 = run(tmp_path, [tmp_path / 'messages*'], state_file=str(state))
    assert sorted(pids(r4)) == [3, 4]

    # the rotated file gets compressed: recognised by its head, not read again
    data = (tmp_path / 'messages.1').read_bytes()
    with gzip.open(str(tmp_path / 'messages.1.gz'), 'wb') as f:
        f.write(data)
    os.unlink(str(tmp_path / 'messages.1'))
    r5 = run(tmp_path, [tmp_path / 'messages*'], state_file=str(state))
    assert pids(r5) == []
    gz_stat = [s for s in r5['sources'] if s['name'].endswith('.gz')][0]
    assert any('rotated copy' in m for m in gz_stat['messages'])

    # truncated in place (copytruncate): read from the start again
    log.write_bytes(kill_line(5, 5.0))
    r6 = run(tmp_path, [tmp_path / 'messages*'], state_file=str(state))
    assert pids(r6) == [5]


def test_damaged_state_file_is_a_fresh_start(tmp_path):
    log = tmp_path / 'm.log'
    log.write_bytes(kill_line(7, 7.0))
    state = tmp_path / 'state.json'
    state.write_text('{not json')
    res = run(tmp_path, [log], state_file=str(state))
    assert pids(res) == [7]
    assert json.loads(state.read_text())['version'] == 1


def test_dedup_across_two_files_and_since(tmp_path):
    a = tmp_path / 'journal.json'
    a.write_bytes(fx('journal-export.json'))
    b = tmp_path / 'messages'
    b.write_bytes(fx('journal-same-event-messages.log'))
    res = run(tmp_path, [a, b])
    assert res['summary']['total'] == 1 and res['summary']['duplicates'] == 1
    assert len(res['events'][0]['sources']) == 2
    res = run(tmp_path, [tmp_path / 'm*'], since='2100-01-01')
    assert res['summary']['total'] == 0


def test_bad_since_raises_value_error(tmp_path):
    with pytest.raises(ValueError):
        run(tmp_path, [tmp_path / 'x'], since='soonish')


FAKE_JOURNALCTL = r'''#!/bin/sh
echo "$@" >> "{argsfile}"
case "$*" in
  *after-cursor*) exit 0 ;;
  *SYSLOG_IDENTIFIER=*) exit 0 ;;
esac
cat "{data}"
'''


def test_journal_source_streams_json_and_keeps_cursor(tmp_path):
    data = tmp_path / 'j.json'
    data.write_bytes(fx('journal-export.json'))
    argsfile = tmp_path / 'args'
    exe = tmp_path / 'journalctl'
    exe.write_text(FAKE_JOURNALCTL.format(argsfile=argsfile, data=data))
    exe.chmod(0o755)
    state = tmp_path / 'state.json'
    res = gather(sources=['journal'], state_file=str(state), journalctl=str(exe), config=False, enrich=False)
    assert pids(res) == [12039]
    assert res['events'][0]['source'] == 'journal'
    assert '_TRANSPORT=kernel' in argsfile.read_text() and '-o json' in argsfile.read_text()
    st = res['sources'][0]
    assert st['lines'] == 8 and st['skipped'] >= 1
    cursor = json.loads(state.read_text())['journal']['cursor']
    assert cursor.startswith('s=abc;i=6b;')  # the last record's cursor (i=107)
    res = gather(sources=['journal'], state_file=str(state), journalctl=str(exe), config=False, enrich=False,
                 since='1d')
    assert pids(res) == []
    assert '--after-cursor=' + cursor in argsfile.read_text() and '--since=@' in argsfile.read_text()
    assert json.loads(state.read_text())['journal']['cursor'] == cursor


# journalctl of systemd before 236 knows no --output-fields (its getopt error, exit 1)
OLD_JOURNALCTL = r'''#!/bin/sh
for a in "$@"; do
  case "$a" in --output-fields=*) echo "journalctl: unrecognized option '$a'" >&2; exit 1 ;; esac
done
echo "$@" >> "{argsfile}"
case "$*" in *SYSLOG_IDENTIFIER=*) exit 0 ;; esac
cat "{data}"
'''


def test_journal_asks_only_the_fields_it_needs_and_works_without(tmp_path):
    data = tmp_path / 'j.json'
    data.write_bytes(fx('journal-export.json'))
    argsfile = tmp_path / 'args'
    for script, narrowed in ((FAKE_JOURNALCTL, True), (OLD_JOURNALCTL, False)):
        exe = tmp_path / 'journalctl'
        exe.write_text(script.format(argsfile=argsfile, data=data))
        exe.chmod(0o755)
        argsfile.write_text('')
        res = gather(sources=['journal'], journalctl=str(exe), config=False, enrich=False)
        assert pids(res) == [12039]
        st = res['sources'][0]
        assert st['status'] == 'ok' and st['errors'] == 0 and not any('output-fields' in m for m in st['messages'])
        assert ('--output-fields=MESSAGE,_TRANSPORT' in argsfile.read_text()) == narrowed


def test_journal_failure_is_reported(tmp_path):
    exe = tmp_path / 'journalctl'
    exe.write_text('#!/bin/sh\necho "No journal files were found." >&2\nexit 1\n')
    exe.chmod(0o755)
    res = gather(sources=['journal'], journalctl=str(exe), config=False, enrich=False)
    assert res['sources'][0]['status'] == 'failed' and 'No journal files' in res['sources'][0]['messages'][0]


def test_dmesg_command_source_with_boot_time(tmp_path):
    exe = tmp_path / 'dmesg'
    exe.write_text('#!/bin/sh\ncat "%s"\n' % os.path.join(FIXTURES, 'dmesg-r.log'))
    exe.chmod(0o755)
    state = tmp_path / 'state.json'
    res = gather(sources=['dmesg'], dmesg=str(exe), config=False, enrich=False, state_file=str(state))
    assert pids(res) == [12039]
    ev = res['events'][0]
    assert ev['source'] == 'dmesg' and ev['time'] is not None  # time = boot time + uptime
    # second run: the same ring buffer, nothing new
    res = gather(sources=['dmesg'], dmesg=str(exe), config=False, enrich=False, state_file=str(state))
    assert pids(res) == [] and res['sources'][0]['incremental']


def test_auto_picks_default_files_under_root(tmp_path):
    root = tmp_path / 'root'
    (root / 'var' / 'log').mkdir(parents=True)
    (root / 'var' / 'log' / 'kern.log').write_bytes(fx('kernel-5.10-openeuler-rfc3339.log'))
    r = oom_sources.SourceReader(root=str(root))
    used = r.run(['auto'])
    assert used == ['files', 'dmesg']
    st = {s['name']: s for s in r.stats}
    assert st['/var/log/kern.log']['events'] == 1
    assert st['dmesg']['status'] == 'unavailable'


# ---- host config and enrichment on fixture trees ---------------------------------------------

def make_root(tmp_path, version):
    root = tmp_path / ('root-' + version)
    vm = root / 'proc' / 'sys' / 'vm'
    vm.mkdir(parents=True)
    for k, v in (('panic_on_oom', 0), ('oom_kill_allocating_task', 0), ('oom_dump_tasks', 1), ('overcommit_memory', 2)):
        (vm / k).write_text('%d\n' % v)
    (root / 'proc' / 'sys' / 'kernel').mkdir()
    (root / 'proc' / 'sys' / 'kernel' / 'osrelease').write_text('5.10.0-182.0.0.95.oe2203sp3.x86_64\n')
    (root / 'proc' / 'vmstat').write_text('nr_free_pages 100\noom_kill 7\n')
    (root / 'proc' / 'meminfo').write_text('MemTotal:        8000000 kB\nSwapTotal:             0 kB\n')
    (root / 'proc' / 'self').mkdir()
    if version == 'v1':
        (root / 'proc' / 'self' / 'mountinfo').write_text(
            '25 30 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n'
            '26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n'
            '31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n')
        mem = root / 'sys' / 'fs' / 'cgroup' / 'memory'
        for cg, limit, kills, procs in (('', 9223372036854771712, 0, '1\n'), ('parent', 80 << 20, 3, ''),
                                        ('parent/c1', 50 << 20, 2, '100\n'), ('parent/c2', 50 << 20, 1, '200\n'),
                                        ('own', 64 << 20, 1, '300\n')):
            d = mem / cg if cg else mem
            d.mkdir(parents=True, exist_ok=True)
            (d / 'memory.limit_in_bytes').write_text('%d\n' % limit)
            (d / 'memory.oom_control').write_text('oom_kill_disable 0\nunder_oom 0\noom_kill %d\n' % kills)
            (d / 'cgroup.procs').write_text(procs)
    else:
        (root / 'proc' / 'self' / 'mountinfo').write_text(
            '25 30 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n')
        cgr = root / 'sys' / 'fs' / 'cgroup'
        cgr.mkdir(parents=True)
        (cgr / 'cgroup.controllers').write_text('cpu io memory pids\n')
        for cg, mx, oom, kills in (('system.slice', 'max', 0, 0), ('system.slice/batch.service', str(64 << 20), 4, 4),
                                   ('system.slice/batch.service/worker', 'max', 0, 4)):
            d = cgr / cg
            d.mkdir(parents=True)
            (d / 'memory.max').write_text(mx + '\n')
            (d / 'memory.events').write_text('low 0\nhigh 0\nmax 9\noom %d\noom_kill %d\noom_group_kill 1\n' % (oom, kills))
            (d / 'cgroup.procs').write_text('')
    return root


def test_host_config_v1_hybrid(tmp_path):
    cfg = host_config(str(make_root(tmp_path, 'v1')))
    assert cfg['cgroup_version'] == 'hybrid' and cfg['memory_cgroup_version'] == 'v1'
    assert cfg['sysctl']['vm.panic_on_oom'] == 0 and cfg['sysctl']['vm.overcommit_memory'] == 2
    assert cfg['vmstat_oom_kill'] == 7 and cfg['kernel'].startswith('5.10') and cfg['swap_total_kb'] == 0
    got = {c['path']: (c['oom_kill'], c['limit_kb']) for c in cfg['cgroups_with_oom']}
    assert got == {'/parent': (3, 81920), '/parent/c1': (2, 51200), '/parent/c2': (1, 51200), '/own': (1, 65536)}


def test_host_config_v2(tmp_path):
    cfg = host_config(str(make_root(tmp_path, 'v2')))
    assert cfg['cgroup_version'] == 'v2' and cfg['memory_cgroup_root'] == '/sys/fs/cgroup'
    got = {c['path']: (c['oom'], c['oom_kill'], c['limit_kb']) for c in cfg['cgroups_with_oom']}
    assert got['/system.slice/batch.service'] == (4, 4, 65536)
    assert got['/system.slice/batch.service/worker'] == (0, 4, None)


def test_enrichment_tells_the_parent_limit_from_the_live_tree(tmp_path):
    root = make_root(tmp_path, 'v1')
    log = root / 'var' / 'log' / 'messages'
    log.parent.mkdir(parents=True)
    log.write_bytes(fx('euleros-guide-pipe.log'))
    res = gather(sources=['files'], paths=['/var/log/messages'], root=str(root))
    evs = res['events']
    # 80 MiB: only /parent has it; it has children and no processes of its own
    assert [e['cause'] for e in evs] == ['parent_cgroup_limit', 'parent_cgroup_limit']
    assert evs[0]['memcg'] == '/parent' and evs[0]['extra']['enriched'] is True
    assert any(x.startswith('live cgroup tree: only /parent has limit 81920kB') for x in evs[0]['evidence'])
    assert res['summary']['by_cause'] == {'parent_cgroup_limit': 2}
    assert res['config']['vmstat_oom_kill'] == 7


def test_enrichment_own_limit_and_ambiguous(tmp_path):
    root = make_root(tmp_path, 'v1')
    text = ('warning|kernel[-]|[1.0] app invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
            'info|kernel[-]|[1.1] memory: usage 65536kB, limit 65536kB, failcnt 3\n'
            'err|kernel[-]|[1.2] Memory cgroup out of memory: Killed process 300 (app) total-vm:1kB\n'
            'warning|kernel[-]|[2.0] app invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
            'info|kernel[-]|[2.1] memory: usage 51200kB, limit 51200kB, failcnt 3\n'
            'err|kernel[-]|[2.2] Memory cgroup out of memory: Killed process 100 (app) total-vm:1kB\n'
            '[3.0] app invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n'
            '[3.1] memory: usage 81920kB, limit 81920kB, failcnt 3\n'
            '[3.2] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,task_memcg=/parent/c1,task=app,pid=101,uid=0\n'
            '[3.3] Memory cgroup out of memory: Killed process 101 (app) total-vm:1kB\n')
    (root / 'l.log').write_text(text)
    res = gather(sources=['files'], paths=['/l.log'], root=str(root), config=False)
    own, ambiguous, via_task = res['events']
    assert own['cause'] == 'cgroup_limit' and own['memcg'] == '/own' and own['confidence'] == 'medium'
    assert ambiguous['cause'] == 'cgroup_limit' and ambiguous['memcg'] is None
    assert any('2 cgroups have limit 51200kB' in x for x in ambiguous['evidence'])
    assert via_task['cause'] == 'parent_cgroup_limit' and via_task['memcg'] == '/parent'
    assert any('ancestor /parent of /parent/c1' in x for x in via_task['evidence'])


def test_state_file_directory_is_created(tmp_path):
    log = tmp_path / 'm.log'
    log.write_bytes(kill_line(1, 1.0))
    state = tmp_path / 'deep' / 'dir' / 's.json'
    run(tmp_path, [log], state_file=str(state))
    assert state.exists()
    shutil.rmtree(str(tmp_path / 'deep'))


MOUNTS_V2 = '30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n'
MOUNTS_V1 = ('30 23 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n'
             '31 23 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n')
IN_APP = '0::/system.slice/app.service\n'


@pytest.mark.parametrize('cpus,running,files,expected', [
    (2, 1, {}, 2),                                          # only this process runs: one CPU idle
    (2, 2, {}, 1),                                          # another task holds the second CPU
    (8, 5, {}, 2),
    (1, 1, {}, 1),                                          # one CPU in the affinity mask
    (2, None, {}, 1),                                       # no /proc/loadavg: stay on one process
    # cgroup v2 quotas of this process's cgroup or of an ancestor
    (2, 1, {'/proc/self/mountinfo': MOUNTS_V2, '/sys/fs/cgroup/cpu.max': '50000 100000\n'}, 1),
    (2, 1, {'/proc/self/mountinfo': MOUNTS_V2, '/sys/fs/cgroup/cpu.max': 'max 100000\n'}, 2),
    (2, 1, {'/proc/self/mountinfo': MOUNTS_V2, '/proc/self/cgroup': IN_APP,
            '/sys/fs/cgroup/system.slice/app.service/cpu.max': 'max 100000\n',
            '/sys/fs/cgroup/system.slice/cpu.max': '100000 100000\n'}, 1),
    (2, 1, {'/proc/self/mountinfo': MOUNTS_V2, '/proc/self/cgroup': IN_APP,
            '/sys/fs/cgroup/system.slice/app.service/cpu.max': '400000 100000\n'}, 2),
    # v1 cpu controller (hybrid hosts keep quotas there), mounted where the mount table says
    (2, 1, {'/proc/self/mountinfo': MOUNTS_V1, '/proc/self/cgroup': '4:cpu,cpuacct:/batch\n0::/batch\n',
            '/sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_quota_us': '150000\n',
            '/sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_period_us': '100000\n'}, 1),
    (2, 1, {'/proc/self/mountinfo': MOUNTS_V1, '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '100000\n',
            '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n'}, 1),
    (2, 1, {'/proc/self/mountinfo': MOUNTS_V1, '/proc/self/cgroup': '4:cpu,cpuacct:/batch\n',
            '/sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_quota_us': '-1\n',
            '/sys/fs/cgroup/cpu,cpuacct/batch/cpu.cfs_period_us': '100000\n'}, 2),
])
def test_auto_workers_follows_what_the_cpus_do_now(tmp_path, monkeypatch, cpus, running, files, expected):
    monkeypatch.setattr(os, 'cpu_count', lambda: cpus)
    monkeypatch.setattr(os, 'sched_getaffinity', lambda pid: set(range(cpus)))
    if running is not None:
        # the 1-minute average says busy: only the instant runnable count may decide
        files = dict(files, **{'/proc/loadavg': '3.00 3.00 3.00 %d/200 4242\n' % running})
    for path, text in files.items():
        target = tmp_path / path.lstrip('/')
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    assert oom_sources.auto_workers(str(tmp_path)) == expected
