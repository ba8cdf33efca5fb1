# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cost of one run of the watch collector on a host whose kernel log is 1 GB a day, rotated daily.

The log is made from a real syslog with real OOM reports (--sample; by default the Debian 12 VM's
rsyslog file of the project's shared samples, with six OOM reports among its boot and daemon
lines; without it, this machine's real dmesg reports from tests/unit/fixtures wrapped the way
rsyslog writes them), repeated with every timestamp, kernel uptime and victim pid shifted so that
each copy's kills are distinct kills. Then, with the collector installed
as the role installs it (a bare copy of it and of the module_utils it imports, run with ``python3 -S``):

- ``first``: the first run over yesterday's rotated 1 GB file and today's start (it takes the
  position; nothing is counted);
- ``steady``: one timer period of logging (1/1440 of a day) appended, then a run; the median of
  several;
- ``rotation``: the daily rotation (``messages`` renamed to ``messages.1``, replacing yesterday's,
  and a new ``messages``) with a period appended on both sides, then a run.

For each: CPU time (user + system) and peak RSS of the collector process (``wait4``), and the
same for the references measured in the same run: ``python3 -S -c pass`` (starting an interpreter)
and ``grep -c`` over the same bytes. Prints figures and ratios; asserts nothing about time.

Usage: python3 bench/watch/bench.py [--day-mb 1024] [--steady-runs 5] [--sample FILE] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, '.tmp', 'live'))
DEFAULT_SAMPLE = '/work/shared/samples/vm-debian12-6.1-cgroup2/syslog'
COLLECTOR = os.path.join(REPO, 'roles', 'watch', 'files', 'oomkit_watch.py')

_RE_TS = re.compile(rb'^(\d{4}-\d\d-\d\dT\d\d:\d\d:)(\d\d)(\.\d+[+-]\d\d:\d\d)', re.M)
_RE_UP = re.compile(rb'kernel: \[\s*(\d+)\.(\d+)\]')
_RE_PID = re.compile(rb'(Killed process |pid=|PID: |oom-kill:.*?,pid=)(\d+)')


def shifted(sample, k):
    """Copy ``k`` of the sample: kernel uptimes + k * 10000 s, victim pids + k * 7, seconds + k."""
    data = _RE_UP.sub(lambda m: b'kernel: [%d.%s]' % (int(m.group(1)) + k * 10000, m.group(2)), sample)
    data = _RE_PID.sub(lambda m: m.group(1) + b'%d' % (int(m.group(2)) + k * 7), data)
    return _RE_TS.sub(lambda m: m.group(1) + b'%02d' % ((int(m.group(2)) + k) % 60) + m.group(3), data)


def make_log(sample, noise, periods, period_bytes, out_path, start_copy=0, mode='wb'):
    """Append ``periods`` timer periods of log: each one copy of the sample (its OOM reports) and
    the sample's non-kernel lines up to ``period_bytes``. Returns the copies written."""
    with open(out_path, mode) as out:
        for p in range(periods):
            data = shifted(sample, start_copy + p)
            out.write(data)
            size = len(data)
            while size < period_bytes:
                out.write(noise)
                size += len(noise)
    return periods


def measure(argv, cwd=None):
    """(cpu seconds, peak RSS MiB, rc) of a child process."""
    pid = os.fork()
    if pid == 0:
        try:
            if cwd:
                os.chdir(cwd)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _pid, status, ru = os.wait4(pid, 0)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)


def install(lib):
    from ansible_collections.oomkit.linux.plugins.plugin_utils.target_files import target_files  # noqa: E402
    os.makedirs(lib)
    shutil.copy(COLLECTOR, os.path.join(lib, 'oomkit_watch.py'))
    for item in target_files(COLLECTOR):
        dest = os.path.join(lib, item['dest'])
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy(item['src'], dest)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--day-mb', type=int, default=1024)
    ap.add_argument('--steady-runs', type=int, default=5)
    ap.add_argument('--sample', default=DEFAULT_SAMPLE)
    ap.add_argument('--keep', action='store_true')
    args = ap.parse_args()
    if os.path.exists(args.sample):
        with open(args.sample, 'rb') as f:
            sample = f.read()
    else:
        sample = b''
        for name in ('dmesg-6.18-memcg-v1-own-limit.log', 'dmesg-6.18-memcg-v1-parent-limit.log'):
            with open(os.path.join(REPO, 'tests', 'unit', 'fixtures', 'oom_logs', name), 'rb') as f:
                for line in f:
                    sample += b'2026-12-02T08:45:06.625749+00:00 bench kernel: ' + line
    work = tempfile.mkdtemp(prefix='oomkit-watch-bench.', dir='/var/tmp')
    try:
        logdir = os.path.join(work, 'log')
        os.makedirs(logdir)
        lib = os.path.join(work, 'lib')
        install(lib)
        cfg = {'sources': ['files'], 'paths': [os.path.join(logdir, 'messages*')], 'enrich': False,
               'textfile': os.path.join(work, 'oomkit_watch.prom'), 'state_file': os.path.join(work, 'st', 'watch.state'),
               'events_file': os.path.join(work, 'st', 'events.json')}
        config = os.path.join(work, 'watch.json')
        with open(config, 'w') as f:
            json.dump(cfg, f)
        noise = b''.join(line for line in sample.splitlines(True) if b' kernel: ' not in line)
        day = args.day_mb << 20
        period = day // 1440
        yesterday = os.path.join(logdir, 'messages.1')
        today = os.path.join(logdir, 'messages')
        chunk_no = [make_log(sample, noise, 1440, period, yesterday)]

        def append(path):
            make_log(sample, noise, 1, period, path, start_copy=chunk_no[0], mode='ab')
            chunk_no[0] += 1

        append(today)
        collector = [sys.executable, '-S', os.path.join(lib, 'oomkit_watch.py'), '--config', config]
        day_size = os.path.getsize(yesterday) + os.path.getsize(today)
        ref_py = measure([sys.executable, '-S', '-c', 'pass'])
        # warm the page cache, then the reference scan of the whole day
        measure(['cat', yesterday, today])
        ref_grep = measure(['grep', '-c', 'invoked oom', yesterday, today])
        first = measure(collector)
        steady = []
        for dummy in range(args.steady_runs):
            append(today)
            steady.append(measure(collector))
        append(today)
        os.rename(today, yesterday)           # the daily rotation (the old .1 is dropped)
        append(today)
        rotation = measure(collector)
        with open(cfg['textfile']) as f:
            kills = sum(float(line.rsplit(' ', 1)[1]) for line in f if line.startswith('oomkit_oom_kills_total'))
        reports_per_copy = sample.count(b'invoked oom-killer')
        print('log: %d MiB a day, rotated daily; one timer period (1/1440 day) = %.0f KiB: one shifted copy of a'
              ' %d-line real syslog with %d OOM reports, then its non-kernel lines'
              % (args.day_mb, period / 1024.0, sample.count(b'\n'), reports_per_copy))
        print('%-34s %10s %10s %8s' % ('run', 'CPU ms', 'peak MiB', 'rc'))

        def row(name, r):
            print('%-34s %10.0f %10.1f %8d' % (name, r[0] * 1000, r[1], r[2]))
        row('reference: python3 -S -c pass', ref_py)
        row('reference: grep -c over the day', ref_grep)
        row('collector, first run (%d MiB)' % (day_size >> 20), first)
        row('collector, steady (median of %d)' % len(steady),
            (statistics.median(s[0] for s in steady), max(s[1] for s in steady), max(s[2] for s in steady)))
        row('collector, after the rotation', rotation)
        st = statistics.median(s[0] for s in steady)
        print('ratios: first run / grep = %.2f; steady run / python start = %.1f; rotation run / python start = %.1f'
              % (first[0] / max(ref_grep[0], 1e-6), st / max(ref_py[0], 1e-6), rotation[0] / max(ref_py[0], 1e-6)))
        print('kills counted after the first run: %d (expected %d: %d periods x %d reports)'
              % (kills, (args.steady_runs + 2) * reports_per_copy, args.steady_runs + 2, reports_per_copy))
    finally:
        if args.keep:
            print('kept', work)
        else:
            shutil.rmtree(work)


if __name__ == '__main__':
    main()
