# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property-based tests: random, truncated, shuffled and interleaved input never raises, and the
fast block scan always agrees with the line-by-line reference."""

from __future__ import annotations

import io
import os

from hypothesis import HealthCheck, example, given, settings, strategies as st

from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import (
    CAUSES,
    EventCollector,
    OomParser,
    parse_lines,
    scan_stream,
    unwrap_line,
    userspace_anchor,
)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'oom_logs')


def _fixture_lines():
    out = []
    # the files at the top level (vm/ is a directory of the VM test bed's captures)
    for name in sorted(n for n in os.listdir(FIXTURES) if os.path.isfile(os.path.join(FIXTURES, n))):
        with open(os.path.join(FIXTURES, name), 'rb') as f:
            out.extend(f.read().splitlines())
    return out


REAL = _fixture_lines()
PREFIXES = [b'', b'[  12.000001] ', b'Nov 26 00:30:01 h kernel: ', b'Nov 26 00:30:01 h2 kernel: [ 1.5] ',
            b'warning|kernel[-]|', b'2026-11-26T00:30:01+08:00 h sshd[3]: ', b'<6>', b'6,1,2,-;',
            b'kern  :info  : ', b'[Thu Nov 26 00:30:01 2026] ', b'{"_TRANSPORT":"kernel","MESSAGE":"']
FRAGMENTS = [b'invoked oom-killer: ', b'Killed process ', b'oom-kill:', b'memory: usage ', b'Task in ',
             b'Memory cgroup out of memory: ', b'Out of memory: ', b'(', b')', b'kB', b',', b'=', b':',
             b'#012', b'[', b']', b'oom_reaper: reaped process ', b'Node 0 Normal free:', b'\xff', b'\x00']

real_line = st.sampled_from(REAL)
mutated = st.builds(lambda line, cut, pre: pre + line[:cut], real_line, st.integers(0, 400), st.sampled_from(PREFIXES))
garbage = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=20),
                             st.text(max_size=20).map(lambda t: t.encode('utf-8', 'surrogatepass'))),
                   max_size=12).map(b''.join)
any_line = st.one_of(real_line, mutated, garbage).map(lambda b: b.replace(b'\n', b' ').replace(b'\r', b' '))


def _check_events(evs, nlines):
    for ev in evs:
        assert ev['cause'] in CAUSES
        assert isinstance(ev['evidence'], list) and ev['evidence']
        assert 1 <= ev['line'] <= max(nlines, 1)
        assert ev['confidence'] in ('high', 'medium', 'low')


def _key(evs):
    return sorted((e['line'], repr(e['killed_pid']), repr(e['invoker']), e['cause'], repr(e['memcg'])) for e in evs)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(any_line, max_size=80), block=st.integers(16, 600))
# another host's 2.6.32 selection line inside a report read by keyword
@example(lines=[b'[  205.060898] python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
                b'Mar  3 10:05:10 oldbox kernel: Out of memory: kill process 5120 (java) score 913 or a child',
                b'[Do Nov 26 00:30:01 2026] Memory cgroup out of memory: Killed process'], block=129)
def test_random_input_never_raises_and_scan_equals_reference(lines, block):
    data = b'\n'.join(lines) + (b'\n' if lines else b'')
    ref = parse_lines(data.splitlines(True))
    got = []
    parser = OomParser('fuzz', got.append)
    nbytes, nlines, dummy = scan_stream(io.BytesIO(data), parser, block_size=block)
    parser.close()
    assert nbytes == len(data) and nlines == data.count(b'\n')
    _check_events(got, nlines)
    assert _key(got) == _key(ref)
    coll = EventCollector(max_events=5)
    for ev in got:
        coll.add(ev)
    summary = coll.summary()
    assert summary['total'] == len(got) and summary['returned'] == min(5, len(got))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_truncated_and_interleaved_reports(data):
    # two real reports from different hosts, each cut somewhere, then interleaved randomly
    with open(os.path.join(FIXTURES, 'dmesg-6.18-memcg-v1-parent-limit.log'), 'rb') as f:
        a = [b'Nov 26 00:00:00 hostA kernel: ' + line for line in f.read().splitlines()]
    with open(os.path.join(FIXTURES, 'kernel-3.10-centos7-memcg.log'), 'rb') as f:
        b = f.read().splitlines()
    a = a[data.draw(st.integers(0, 10)):data.draw(st.integers(len(a) - 10, len(a)))]
    b = b[:data.draw(st.integers(0, len(b)))]
    merged = []
    while a or b:
        src = a if (a and (not b or data.draw(st.booleans()))) else b
        merged.append(src.pop(0))
    text = b'\n'.join(merged) + b'\n'
    got = []
    parser = OomParser('x', got.append)
    scan_stream(io.BytesIO(text), parser, block_size=data.draw(st.integers(64, 2048)))
    parser.close()
    _check_events(got, text.count(b'\n'))
    # events of one host never absorb the other host's lines
    for ev in got:
        if ev['host'] == 'hostA':
            assert ev['killed_comm'] in (None, 'python3')
        elif ev['host'] == 'c7-node':
            assert ev['killed_comm'] in (None, 'java')


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_unwrap_never_raises(text):
    w = unwrap_line(text)
    assert isinstance(w.msg, str)
    assert w.epoch is None or isinstance(w.epoch, float)


KERNELS = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'oom_kernels')


def _kernel_reports():
    out = []
    for name in sorted(os.listdir(KERNELS)):
        with open(os.path.join(KERNELS, name), 'rb') as f:
            out.append([line for line in f.read().splitlines() if not line.startswith(b'#')])
    return out


KERNEL_REPORTS = _kernel_reports()
NOISE = [b'[ 1.000000] eth0: link up', b'[ 1.000001] audit: type=1400 audit(1.0:2): apparmor="DENIED"',
         b'[ 1.000002] EXT4-fs (sda1): mounted filesystem']


def _victims(lines):
    out = set()
    for line in lines:
        i = line.find(b'Killed process ')
        if i >= 0:
            num = line[i + 15:].split(b' ', 1)[0].split(b',', 1)[0]
            if num.isdigit():
                out.add(int(num))
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_orphans_group_kills_and_interleaving_lose_no_kill(data):
    # reports of every kernel version, each cut at both ends (orphan lines: a summary, a Task in, a
    # group line, a reaper line without the rest), from several hosts, interleaved with each other
    # and with other kernel lines; the scan equals the reference and every kill line is in an event
    picks = data.draw(st.lists(st.integers(0, len(KERNEL_REPORTS) - 1), min_size=1, max_size=4))
    streams = []
    for n, idx in enumerate(picks):
        lines = KERNEL_REPORTS[idx]
        a = data.draw(st.integers(0, len(lines) - 1))
        b = data.draw(st.integers(a + 1, len(lines)))
        prefix = b'Dec  2 09:00:%02d host%d kernel: ' % (n, n)
        streams.append((b'host%d' % n, [prefix + line for line in lines[a:b]]))
    pending = [list(lines) for _host, lines in streams]
    merged = []
    while any(pending):
        choice = data.draw(st.integers(0, len(pending)))
        if choice == len(pending):
            merged.append(b'Dec  2 09:00:59 host0 kernel: ' + data.draw(st.sampled_from(NOISE)))
            continue
        if pending[choice]:
            merged.append(pending[choice].pop(0))
    text = b'\n'.join(merged) + b'\n'
    ref = parse_lines(text.splitlines(True))
    got = []
    parser = OomParser('fuzz', got.append)
    scan_stream(io.BytesIO(text), parser, block_size=data.draw(st.integers(64, 4096)))
    parser.close()
    _check_events(got, text.count(b'\n'))
    assert _key(got) == _key(ref)
    for host, lines in streams:
        seen = set()
        for ev in got:
            if ev['host'] == host.decode():
                seen.add(ev['killed_pid'])
                seen.update(g['pid'] for g in ev['group_killed'] or ())
        assert _victims(lines) <= seen, (host, lines)


# userspace killers' candidate lines: the scan finds "SIG..." with a one-byte search for "G" and a
# match where it is; every line the line-by-line test (userspace_anchor) takes must be found, at
# any block size (a "SIG" cut by a block end, "SISIG", "SIGSIGTERM", several on one line)
U_FRAGMENTS = [b'sending SIGTERM to process 7 uid 0 "a": badness 9', b'Sending SIGKILL to the victim', b'SIG',
               b'SI', b'G', b'SIGSIG', b'SIGTERM to process ', b'SIGKILL to the victim', b' to process 5',
               b'Killed /system.slice/a.service due to memory pressure', b'earlyoom[1]: ', b'nohang[2]: ',
               b'SIGABCDEFG to process 1', b'SIG12 to the victim', b'SIGTERM to process 1', b'K', b'\n']
u_line = st.lists(st.one_of(st.sampled_from(U_FRAGMENTS), st.sampled_from(U_FRAGMENTS), st.sampled_from(PREFIXES),
                            st.binary(max_size=4)),
                  max_size=5).map(b''.join).map(lambda b: b.replace(b'\n', b' ').replace(b'\r', b' '))


class _SeenUserspace(OomParser):
    def __init__(self):
        super().__init__('fuzz', lambda ev: None, emit_userspace=lambda u: None)
        self.seen = []

    def userspace(self, buf, ls, le, lineno):
        self.seen.append(lineno)
        return super().userspace(buf, ls, le, lineno)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.one_of(u_line, u_line, any_line), max_size=40), block=st.integers(16, 300))
@example(lines=[b'SIGTERM to process 1', b'SIGTERM to process 2'], block=300)
@example(lines=[b'x' * 14 + b'SIGKILL to the victim', b'SISIGSIGTERM to process 3'], block=16)
@example(lines=[b'SIGSIGKILL to process 4 SIGTERM to process 5', b'nohang[2]: Sending SIGKILL to the victim'], block=17)
def test_scan_finds_every_userspace_candidate_line(lines, block):
    data = b'\n'.join(lines) + (b'\n' if lines else b'')
    want = [n for n, line in enumerate(data.splitlines(), 1) if userspace_anchor(line)]
    parser = _SeenUserspace()
    scan_stream(io.BytesIO(data), parser, block_size=block)
    parser.close()
    assert sorted(set(parser.seen)) == want
