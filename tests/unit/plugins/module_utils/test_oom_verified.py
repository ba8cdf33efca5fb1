# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""verified: a text-log kernel line against the kernel's own record of the host (issue 13 row 4)."""

from __future__ import annotations

import io

from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import EventCollector, OomParser, scan_stream

KILL = ('Out of memory: Killed process %d (%s) total-vm:1000kB, anon-rss:100kB, file-rss:0kB, shmem-rss:0kB, '
        'UID:0 pgtables:40kB oom_score_adj:0')


def journal_record(epoch, msg, transport='kernel'):
    return ('{"__REALTIME_TIMESTAMP": "%d", "_HOSTNAME": "h1", "_TRANSPORT": "%s", "SYSLOG_IDENTIFIER": "kernel", '
            '"MESSAGE": "%s"}' % (int(epoch * 1e6), transport, msg))


def feed(coll, source, text):
    parser = OomParser(source, coll.add)
    scan_stream(io.BytesIO(text.encode()), parser)
    parser.close()


def test_text_line_the_kernel_record_has_is_verified_and_a_forged_one_is_not():
    coll = EventCollector()
    coll.local_host = 'h1'
    # the journal's kernel records: one real kill at 1000.0 s; the record starts at 900 s
    journal = '\n'.join([journal_record(900.0, 'Linux version 6.18'), journal_record(1000.0, KILL % (4242, 'java'))])
    feed(coll, 'journal', journal + '\n')
    coll.mark_kernel_source('journal', 900.0)
    # /var/log/syslog: the same kill (rsyslog copy) and a line written with logger -t kernel
    syslog = ('1970-01-01T00:16:40.000000+00:00 h1 kernel: ' + KILL % (4242, 'java') + '\n' +
              '1970-01-01T00:16:50.000000+00:00 h1 kernel: ' + KILL % (1, 'systemd') + '\n' +
              # older than the journal's first record: cannot be compared
              '1970-01-01T00:10:00.000000+00:00 h1 kernel: ' + KILL % (7, 'old') + '\n')
    feed(coll, '/var/log/syslog', syslog)
    evs = dict((e['killed_pid'], e) for e in coll.events())
    assert evs[4242]['verified'] is True and evs[4242]['sources'] == ['journal', '/var/log/syslog']
    assert evs[1]['verified'] is False and evs[1]['sources'] == ['/var/log/syslog']
    assert evs[7]['verified'] is None
    assert coll.summary()['unverified'] == 1


def test_only_text_logs_read_means_unknown():
    coll = EventCollector()
    feed(coll, '/var/log/syslog', 'Dec  2 09:00:00 h1 kernel: ' + KILL % (1, 'systemd') + '\n')
    (ev,) = coll.events()
    assert ev['verified'] is None


def test_the_ring_buffer_proves_its_own_events():
    coll = EventCollector()
    feed(coll, 'dmesg', '[  100.000000] ' + KILL % (5, 'x') + '\n')
    coll.mark_kernel_source('dmesg', None)
    (ev,) = coll.events()
    assert ev['verified'] is True


def test_a_finding_never_rests_on_unverified_events_alone():
    from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_report as R  # pylint: disable=import-outside-toplevel
    ev = dict((k, None) for k in R.EVENT_FIELDS)
    ev.update(source='/var/log/syslog', sources=['/var/log/syslog'], evidence=['x'], killed_pid=1,
              killed_comm='systemd', cause='system_memory', time='2026-11-26T10:00:00+00:00', order=0)
    result = {'changed': False, 'ansible_facts': {'oom': {
        'events': [dict(ev, verified=False)], 'summary': {}, 'sources': [],
        'config': {'kernel': '6.1', 'cgroup_version': 'v2', 'vmstat_oom_kill': 0, 'cgroups_with_oom': [],
                   'sysctl': {'vm.panic_on_oom': 0}}}}}
    import datetime  # pylint: disable=import-outside-toplevel
    now = datetime.datetime(2026, 11, 26, 12, 0, 0, tzinfo=datetime.timezone.utc)
    forged = R.build_report(['h1'], [result], now=now)
    assert len(forged['events']) == 1 and forged['findings'] == []
    result['ansible_facts']['oom']['events'][0]['verified'] = None
    real = R.build_report(['h1'], [result], now=now)
    assert real['findings'], 'the same event, not known to be forged, gives findings'
