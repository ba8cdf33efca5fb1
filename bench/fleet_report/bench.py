# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the fleet report at fleet scale (build, render, memory, slope). Prints, never asserts.

A synthetic fleet is made from one real host result: oomkit.linux's parser (oom_sources.gather, what
oom_facts runs) on the parser's fixture logs (tests/unit/fixtures/oom_logs) gives the events of one
host; every synthetic host gets E of them, varied per host (uptime, pids, times, sizes, cgroup of a
per-host service instance), so no two hosts share a kernel event, and a few inventory groups.

Each size runs in its own child process (so peak memory is that size's alone):

- summary: each host's compact summary (oom_host_summary: in the diagnosis role this runs per host,
  in the forks, before the controller gathers the fleet);
- build: the fleet report from the summaries (oom_report, run once on the controller);
- raw build: the report from the raw registered results (the filter called with oom_facts results);
- render: JSON, Markdown, HTML, Prometheus;
- peak memory: the child's peak RSS above its RSS once the input fleet is built.

The slope is the ratio of build times between sizes 10x apart (linear cost: about 10x).

    python3 bench/fleet_report/bench.py [--quick] [--sizes 100x25,1000x25] [--repeat 3]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
OUT = os.path.join(REPO, 'bench', 'output', 'fleet_report')
FIXTURES = os.path.join(REPO, 'tests', 'unit', 'fixtures', 'oom_logs')
SIZES = ((100, 25), (1000, 25), (4000, 25), (10000, 25), (1000, 200))
QUICK = ((100, 25), (1000, 25), (1000, 200))


def _pypath():
    base = os.path.join(OUT, 'pypath')
    link = os.path.join(base, 'ansible_collections', 'oomkit', 'linux')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        try:
            os.symlink(REPO, link)
        except FileExistsError:
            pass
    return base


def _rss_kb(field):
    with open('/proc/self/status') as handle:
        for line in handle:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    return 0


def one_host_events():
    """The events oom_facts finds in the parser's fixture logs: one real host's result."""
    from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import gather  # pylint: disable=import-outside-toplevel
    paths = sorted(p for p in glob.glob(os.path.join(FIXTURES, '*.log')))
    data = gather(sources=['files'], paths=paths, config=False, enrich=False)
    return [e for e in data['events'] if e.get('killed_pid') is not None], data


def synthetic_fleet(hosts, per_host, seed_events, seed):
    """Registered oom_facts results of `hosts` hosts with `per_host` events each, varied per host."""
    results = []
    names = []
    groups = {}
    base = 1795600000.0
    for i in range(hosts):
        name = 'node%05d' % (i + 1)
        events = []
        for k in range(per_host):
            src = seed_events[(i + k) % len(seed_events)]
            event = dict(src)
            event['uptime'] = 1000.0 + i * 0.001 + k * 37.5
            event['killed_pid'] = 10000 + i * per_host + k
            when = base + (i % 97) * 3600 + k * 5400
            event['time'] = time.strftime('%Y-%m-%dT%H:%M:%S+00:00', time.gmtime(when))
            if isinstance(src.get('anon_rss_kb'), int):
                event['anon_rss_kb'] = src['anon_rss_kb'] + (i % 13) * 1024 + k * 512
            if src.get('memcg') and i % 3 == 0:
                event['memcg'] = '%s/instance-%d' % (src['memcg'].rstrip('/'), i % 7)
            event['evidence'] = list(src.get('evidence') or [])
            events.append(event)
        results.append({'changed': False, 'ansible_facts': {'oom': {
            'events': events, 'summary': {'total': len(events)}, 'sources': seed['sources'],
            'config': {'kernel': '6.1.0-%d-amd64' % (i % 4), 'cgroup_version': 'v2', 'vmstat_oom_kill': per_host,
                       'cgroups_with_oom': [],
                       'sysctl': {'vm.panic_on_oom': 1 if i % 10 == 0 else 0, 'vm.oom_dump_tasks': 1,
                                  'vm.oom_kill_allocating_task': 0}}}}})
        names.append(name)
        groups[name] = [('db', 'web', 'batch', 'cache')[i % 4]] + (['eu'] if i % 2 else ['us'])
    return names, results, groups


def child(hosts, per_host):
    sys.path.insert(0, _pypath())
    from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_report as R  # pylint: disable=import-outside-toplevel
    from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report_hosts import host_summary  # pylint: disable=import-outside-toplevel
    try:
        from ansible_collections.oomkit.linux.plugins.filter.oom_report import oom_report as build  # pylint: disable=import-outside-toplevel
        via = 'filter plugin'
    except ImportError:  # no ansible-core in this Python: the filter's own function
        build = R.build_report
        via = 'plugin_utils (no ansible-core here)'
    seed_events, seed = one_host_events()
    names, results, groups = synthetic_fleet(hosts, per_host, seed_events, seed)
    base_rss = _rss_kb('VmRSS')
    started = time.perf_counter()
    summaries = [host_summary(n, r, None, True, groups[n], 200) for n, r in zip(names, results)]
    summary_s = time.perf_counter() - started
    del results
    started, cpu = time.perf_counter(), time.process_time()
    report = build(names, summaries, active_hosts=names)
    build_s, build_cpu = time.perf_counter() - started, time.process_time() - cpu
    rendered = {}
    times = {}
    for fmt in ('json', 'markdown', 'html', 'prometheus'):
        started = time.perf_counter()
        rendered[fmt] = len(R.render(report, fmt).encode('utf-8'))
        times[fmt] = time.perf_counter() - started
    peak = _rss_kb('VmHWM')
    print(json.dumps({'hosts': hosts, 'per_host': per_host, 'via': via, 'summary_s': summary_s, 'build_s': build_s,
                      'build_cpu_s': build_cpu,
                      'render_s': times, 'bytes': rendered, 'peak_mb': (peak - base_rss) / 1024.0,
                      'events': report['summary']['events_total'], 'findings': report['summary']['findings_total'],
                      'seed_events': len(seed_events)}))


def raw_child(hosts, per_host):
    """The report built straight from raw registered results (summaries made inside the build)."""
    sys.path.insert(0, _pypath())
    from ansible_collections.oomkit.linux.plugins.plugin_utils import oom_report as R  # pylint: disable=import-outside-toplevel
    seed_events, seed = one_host_events()
    names, results, groups = synthetic_fleet(hosts, per_host, seed_events, seed)
    started, cpu = time.perf_counter(), time.process_time()
    R.build_report(names, results, active_hosts=names, groups=groups)
    print(json.dumps({'raw_build_s': time.perf_counter() - started, 'raw_build_cpu_s': time.process_time() - cpu}))


def run_child(kind, hosts, per_host):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), '--child', kind, '%dx%d' % (hosts, per_host)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    if out.returncode != 0:
        raise SystemExit('child %s %dx%d failed:\n%s' % (kind, hosts, per_host, out.stderr[-3000:]))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='100, 1,000 hosts x 25 and 1,000 x 200 only')
    parser.add_argument('--sizes', help='comma-separated HOSTSxEVENTS, for example 100x25,1000x25')
    parser.add_argument('--repeat', type=int, default=1, help='runs of each size; the fastest is shown (default 1)')
    parser.add_argument('--child', nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        hosts, per_host = (int(x) for x in args.child[1].split('x'))
        (child if args.child[0] == 'report' else raw_child)(hosts, per_host)
        return
    sizes = [tuple(int(x) for x in s.split('x')) for s in args.sizes.split(',')] if args.sizes else (
        QUICK if args.quick else SIZES)
    os.makedirs(OUT, exist_ok=True)
    rows = []
    print('Times in seconds (wall; "cpu" is this process\'s CPU time, steadier on a shared machine).')
    print('%-12s %9s %9s %9s %9s %9s %8s %8s %8s %8s %9s %9s' % (
        'fleet', 'summary', 'build', 'build cpu', 'raw', 'raw cpu', 'json', 'md', 'html', 'prom', 'peak MB', 'html kB'))
    for hosts, per_host in sizes:
        # the fastest of --repeat runs of each (a shared machine only ever adds time)
        runs = range(args.repeat)
        fig = min((run_child('report', hosts, per_host) for _run in runs), key=lambda f: f['build_cpu_s'])
        fig.update(min((run_child('raw', hosts, per_host) for _run in runs), key=lambda f: f['raw_build_cpu_s']))
        rows.append(fig)
        r = fig['render_s']
        print('%-12s %9.2f %9.2f %9.2f %9.2f %9.2f %8.2f %8.3f %8.2f %8.2f %9.0f %9.0f' % (
            '%dx%d' % (hosts, per_host), fig['summary_s'], fig['build_s'], fig['build_cpu_s'], fig['raw_build_s'],
            fig['raw_build_cpu_s'], r['json'], r['markdown'], r['html'], r['prometheus'], fig['peak_mb'],
            fig['bytes']['html'] / 1024.0))
        sys.stdout.flush()
    print('\nevents per fleet and findings: ' + ', '.join('%dx%d: %d events, %d findings' % (
        f['hosts'], f['per_host'], f['events'], f['findings']) for f in rows))
    print('seed: %d real events from %s; build called through the %s' % (rows[0]['seed_events'], FIXTURES, rows[0]['via']))
    by_size = dict(((f['hosts'], f['per_host']), f) for f in rows)
    print('\nslope (time ratio for 10x the hosts; linear is about 10):')
    for (small, per_host), fig in sorted(by_size.items()):
        big = by_size.get((small * 10, per_host))
        if big:
            print('  %d -> %d hosts x %d: build %.1fx (cpu %.1fx), raw build %.1fx (cpu %.1fx), html %.1fx, '
                  'peak memory %.1fx' % (
                      small, small * 10, per_host, big['build_s'] / fig['build_s'], big['build_cpu_s'] / fig['build_cpu_s'],
                      big['raw_build_s'] / fig['raw_build_s'], big['raw_build_cpu_s'] / fig['raw_build_cpu_s'],
                      big['render_s']['html'] / fig['render_s']['html'], big['peak_mb'] / max(fig['peak_mb'], 0.1)))
    with open(os.path.join(OUT, 'figures.json'), 'w') as handle:
        json.dump(rows, handle, indent=1)
    print('figures: %s' % os.path.join(OUT, 'figures.json'))


if __name__ == '__main__':
    main()
