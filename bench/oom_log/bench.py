# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of the OOM log parser against grep, side by side in one run.

Generates a seeded syslog (real-looking noise from many daemons, userspace lines that mention OOM,
and a few thousand kernel OOM reports of several kernel generations in several wrapper formats),
then measures on the same, page-cache-warm file:

- ``grep -cE 'invoked oom-killer|Killed process'`` (the reference);
- the full parse as the fact module does it (events, causes, summary), in a child process, with
  its peak RSS (``ru_maxrss`` from wait4);
- an incremental re-run on the unchanged file with a state file.

It prints figures and ratios; it never asserts a time.  Usage::

    python3 bench/oom_log/bench.py [--size MB] [--quick] [--seed N] [--repeat N] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, 'bench', 'output')
GREP_RE = 'invoked oom-killer|Killed process'


# ---------------------------------------------------------------------------------------------
# import path: the collection as ansible_collections.oomkit.linux, without installing anything
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# log generator
# ---------------------------------------------------------------------------------------------

HOSTS = ['node-a01', 'node-a02', 'euler-db-7']
NOISE = [
    ('sshd', 'Accepted publickey for deploy from 10.{a}.{b}.{c} port {p} ssh2: ED25519 SHA256:{h}'),
    ('sshd', 'pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)'),
    ('sshd', 'Disconnected from user deploy 10.{a}.{b}.{c} port {p}'),
    ('systemd', 'Started Session {n} of User deploy.'),
    ('systemd', 'session-{n}.scope: Deactivated successfully.'),
    ('systemd', 'Starting Cleanup of Temporary Directories...'),
    ('systemd', 'app-{n}.service: A process of this unit has been killed by the OOM killer.'),
    ('systemd', 'app-{n}.service: Failed with result \'oom-kill\'.'),
    ('CRON', '(root) CMD (/usr/lib/sa/sa1 1 1)'),
    ('containerd', 'time="2026-11-26T00:00:00.{n}Z" level=info msg="shim disconnected" id={h} namespace=k8s.io'),
    ('containerd', 'time="2026-11-26T00:00:00.{n}Z" level=info msg="TaskOOM event container_id:\\"{h}\\""'),
    ('kubelet', 'I1126 00:00:00.{n} 1234 kubelet.go:2448] "SyncLoop (PLEG): event for pod" pod="default/web-{n}" event={{ID:{h} Type:ContainerDied}}'),
    ('kubelet', 'I1126 00:00:00.{n} 1234 oom_watcher_linux.go:76] "Got sys oom event" event={{Pid:{p} ProcessName:java}}'),
    ('earlyoom', 'mem avail: {n} of 7823 MiB ({a}.{b}%), swap free:    0 of    0 MiB ( 0.00%)'),
    ('rsyslogd', 'imjournal: {n} messages lost due to rate-limiting (20000 allowed within 600 seconds)'),
    ('chronyd', 'Selected source 10.{a}.{b}.{c} (ntp.example.net)'),
    ('NetworkManager', '<info>  [{n}.{p}] device (veth{a}): carrier: link connected'),
    ('dockerd', 'time="2026-11-26T00:00:00.{n}Z" level=warning msg="Your kernel does not support swap limit capabilities"'),
    ('auditd', 'Audit daemon rotating log files'),
    ('kernel', 'audit: type=1400 audit({n}.{p}:{a}): apparmor="DENIED" operation="open" profile="snap.x" name="/proc/{p}/mounts" pid={p} comm="x"'),
    ('kernel', 'IPv6: ADDRCONF(NETDEV_CHANGE): veth{h}: link becomes ready'),
    ('kernel', 'cni0: port {a}(veth{h}) entered forwarding state'),
    ('kernel', 'EXT4-fs (dm-{a}): mounted filesystem with ordered data mode. Opts: (null)'),
    ('kernel', 'TCP: request_sock_TCP: Possible SYN flooding on port {p}. Sending cookies.'),
    ('kernel', 'nf_conntrack: nf_conntrack: table full, dropping packet'),
]


def _hex(rng, n=12):
    return '%0*x' % (n, rng.getrandbits(4 * n))


# userspace echoes of kernel OOM lines: rare, but they must never become events
RARE = [
    ('node-problem-detector', 'I1126 kernel_monitor.go:{n}] Event OOMKilling: Killed process {p} (java) total-vm:{n}kB'),
    ('logger', 'test: {p} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0'),
]


def _noise_pool(rng, size=6000):
    pool = []
    for i in range(size):
        prog, tmpl = RARE[i % len(RARE)] if i < 2 else rng.choice(NOISE)
        body = tmpl.format(a=rng.randint(0, 255), b=rng.randint(0, 255), c=rng.randint(0, 255),
                           p=rng.randint(1000, 65000), n=rng.randint(1, 999999), h=_hex(rng))
        pool.append((prog, rng.randint(100, 99999), body))
    return pool


def _report(rng, kind, pid, comm, cg):
    """Kernel message lines of one OOM report (no wrapper)."""
    lines = []
    if kind == 'memcg6':
        lines.append('%s invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0' % comm)
        lines.append('CPU: 1 UID: 0 PID: %d Comm: %s Not tainted 6.6.0-28.0.0.34.oe2403.x86_64 #1' % (pid, comm))
        lines.append('Call Trace:')
        lines.append(' <TASK>')
        for fn in ('dump_stack_lvl+0x57/0x80', 'dump_header+0x43/0x1c0', 'oom_kill_process+0x10d/0x1c0',
                   'out_of_memory+0x214/0x500', 'mem_cgroup_out_of_memory+0xc0/0x110',
                   'try_charge_memcg+0x422/0x6f0', 'charge_memcg+0x2f/0x90', 'do_anonymous_page+0x343/0xa20',
                   'handle_mm_fault+0xd0/0x310', 'exc_page_fault+0x176/0x770', 'asm_exc_page_fault+0x22/0x30'):
            lines.append(' ' + fn)
        lines.append(' </TASK>')
        lim = rng.choice((32768, 65536, 81920, 262144))
        lines.append('memory: usage %dkB, limit %dkB, failcnt %d' % (lim, lim, rng.randint(1, 500)))
        lines.append('memory+swap: usage %dkB, limit 9007199254740988kB, failcnt 0' % lim)
        lines.append('kmem: usage %dkB, limit 9007199254740988kB, failcnt 0' % rng.randint(100, 999))
        lines.append('Memory cgroup stats for %s:' % cg)
        for k in ('cache', 'rss', 'rss_huge', 'shmem', 'mapped_file', 'dirty', 'writeback', 'swap', 'pgpgin',
                  'pgpgout', 'pgfault', 'pgmajfault', 'inactive_anon', 'active_anon', 'inactive_file',
                  'active_file', 'unevictable', 'hierarchical_memory_limit', 'total_cache', 'total_rss',
                  'total_rss_huge', 'total_shmem', 'total_mapped_file', 'total_pgfault', 'total_inactive_anon',
                  'total_active_anon', 'total_inactive_file', 'total_active_file', 'total_unevictable'):
            lines.append('%s %d' % (k, rng.randint(0, 1 << 27)))
        lines.append('Tasks state (memory values in pages):')
        lines.append('[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name')
        for j in range(rng.randint(1, 6)):
            p = pid if j == 0 else rng.randint(300, 4000000)
            lines.append('[%7d] %5d %5d %8d %8d %8d %8d %9d %14d %8d %13d %s' % (
                p, 0, p, rng.randint(1000, 99999), rng.randint(1000, 99999), 1, 1, 0, 225280, 0, 0, comm))
        lines.append('oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=%s,'
                     'task_memcg=%s,task=%s,pid=%d,uid=0' % (cg, cg, comm, pid))
        lines.append('Memory cgroup out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, '
                     'file-rss:%dkB, shmem-rss:0kB, UID:0 pgtables:220kB oom_score_adj:0' % (
                         pid, comm, rng.randint(10000, 999999), rng.randint(10000, 99999), rng.randint(0, 9999)))
    elif kind == 'global5':
        order = rng.choice((0, 0, 0, 2, 3))
        lines.append('%s invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=%d, oom_score_adj=0' % (comm, order))
        lines.append('CPU: 0 PID: %d Comm: %s Not tainted 5.10.0-182.0.0.95.oe2203sp3.x86_64 #1' % (pid, comm))
        lines.append('Hardware name: OpenStack Foundation OpenStack Nova, BIOS 1.16.0 04/01/2014')
        lines.append('Call Trace:')
        for fn in ('dump_stack+0x57/0x6e', 'dump_header+0x4a/0x1f0', 'oom_kill_process.cold+0xb/0x10',
                   'out_of_memory+0x1bd/0x4e0', '__alloc_pages_slowpath.constprop.0+0xbcc/0xc90',
                   '__alloc_pages_nodemask+0x2de/0x310', 'pagecache_get_page+0x17b/0x370'):
            lines.append(' ' + fn)
        lines.append('Mem-Info:')
        lines.append('active_anon:%d inactive_anon:%d isolated_anon:0' % (rng.randint(1, 9999), rng.randint(100000, 999999)))
        lines.append(' active_file:37 inactive_file:0 isolated_file:0')
        lines.append(' unevictable:0 dirty:0 writeback:0')
        lines.append(' free:12345 free_pcp:128 free_cma:0')
        lines.append('Node 0 active_anon:188kB inactive_anon:778076kB active_file:20kB inactive_file:40kB '
                     'unevictable:0kB isolated(anon):0kB isolated(file):0kB mapped:1664kB dirty:0kB')
        lines.append('Node 0 DMA free:15908kB min:268kB low:332kB high:396kB reserved_highatomic:0KB '
                     'active_anon:0kB inactive_anon:0kB present:15992kB managed:15908kB mlocked:0kB')
        lines.append('lowmem_reserve[]: 0 2991 7810 7810 7810')
        lines.append('Node 0 Normal free:%dkB min:44676kB low:55844kB high:67012kB reserved_highatomic:0KB '
                     'active_anon:174212kB inactive_anon:1539340kB present:2080636kB managed:1840628kB' % rng.randint(20000, 44000))
        lines.append('Node 0 DMA: 1*4kB (U) 0*8kB 0*16kB 1*32kB (U) 2*64kB (U) 1*128kB (U) 1*256kB (U) 0*512kB '
                     '1*1024kB (U) 1*2048kB (M) 3*4096kB (M) = 15908kB')
        lines.append('Node 0 Normal: 412*4kB (UME) 211*8kB (UME) 0*16kB 0*32kB 0*64kB 0*128kB 0*256kB 0*512kB '
                     '0*1024kB 0*2048kB 0*4096kB = 3336kB')
        lines.append('1204 total pagecache pages')
        lines.append('Tasks state (memory values in pages):')
        lines.append('[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name')
        for j in range(rng.randint(5, 25)):
            p = pid if j == 0 else rng.randint(300, 4000000)
            lines.append('[%7d] %5d %5d %8d %8d %14d %8d %13d %s' % (
                p, 0, p, rng.randint(1000, 999999), rng.randint(100, 99999), 86016, 0,
                rng.choice((0, 0, -1000, 1000)), comm if j == 0 else rng.choice(('sshd', 'rsyslogd', 'java', 'nginx'))))
        lines.append('oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,'
                     'task_memcg=/system.slice/%s.service,task=%s,pid=%d,uid=0' % (comm, comm, pid))
        lines.append('Out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, file-rss:4kB, '
                     'shmem-rss:0kB, UID:0 pgtables:1492kB oom_score_adj:0' % (
                         pid, comm, rng.randint(100000, 9999999), rng.randint(100000, 999999)))
        lines.append('oom_reaper: reaped process %d (%s), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB' % (pid, comm))
    else:  # old3: 3.10 memcg wording
        lines.append('%s invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0' % comm)
        lines.append('%s cpuset=/ mems_allowed=0' % comm)
        lines.append('CPU: 3 PID: %d Comm: %s Not tainted 3.10.0-1160.el7.x86_64 #1' % (pid, comm))
        lines.append('Task in %s/child killed as a result of limit of %s' % (cg, cg))
        lines.append('memory: usage 524288kB, limit 524288kB, failcnt %d' % rng.randint(1, 99))
        lines.append('memory+swap: usage 524288kB, limit 9007199254740988kB, failcnt 0')
        lines.append('kmem: usage 0kB, limit 9007199254740988kB, failcnt 0')
        lines.append('Memory cgroup stats for %s: cache:0KB rss:0KB rss_huge:0KB mapped_file:0KB swap:0KB' % cg)
        lines.append('Memory cgroup stats for %s/child: cache:12KB rss:524276KB rss_huge:0KB mapped_file:0KB' % cg)
        lines.append('[ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name')
        lines.append('[%5d]     0 %5d   200000   131069     270        0           500 %s' % (pid, pid, comm))
        lines.append('Memory cgroup out of memory: Kill process %d (%s) score 1500 or sacrifice child' % (pid, comm))
        lines.append('Killed process %d (%s) total-vm:800000kB, anon-rss:524276kB, file-rss:0kB, shmem-rss:0kB' % (pid, comm))
    return lines


MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']


def _stamp(fmt, t):
    tm = time.gmtime(t)
    if fmt == 'syslog':
        return '%s %2d %02d:%02d:%02d' % (MONTHS[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
    return '%04d-%02d-%02dT%02d:%02d:%02d.%06d+08:00' % (
        tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int((t % 1) * 1e6))


def _wrap(fmt, ts, host, prog, pid, msg, uptime=None):
    if prog == 'kernel':
        body = ('[%12.6f] ' % uptime if uptime is not None else '') + msg
        if fmt == 'syslog':
            return '%s %s kernel: %s' % (ts, host, body)
        if fmt == 'rfc3339':
            return '%s %s kernel: %s' % (ts, host, body)
        return '%s|warning|kernel[-]|%s' % (ts, body)
    if fmt == 'pipe':
        return '%s|info|%s[%d]|%s' % (ts, prog, pid, msg)
    return '%s %s %s[%d]: %s' % (ts, host, prog, pid, msg)


def generate(path, size_mb, seed, events_per_mb=3.0):
    """Write a log of about size_mb MiB; returns the number of OOM reports written."""
    rng = random.Random(seed)
    pool = _noise_pool(rng)
    target = size_mb * 1024 * 1024
    written = 0
    n_events = 0
    t = 1795000000.0 + rng.random()
    uptime = 1000.0
    chunk_target = 4 * 1024 * 1024
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        while written < target:
            fmt = rng.choices(('syslog', 'rfc3339', 'pipe'), (5, 3, 2))[0]
            host = rng.choice(HOSTS)
            out = []
            size = 0
            want_events = rng.random() * 2 * events_per_mb * chunk_target / (1024 * 1024)
            slots = sorted(rng.random() for dummy in range(int(want_events + 0.5)))
            si = 0
            lines_per_sec = rng.randint(20, 200)
            i = 0
            while size < chunk_target:
                if i % lines_per_sec == 0:
                    t += 1.0
                    uptime += 1.0
                    ts = _stamp(fmt, t)
                prog, pid, body = pool[rng.randrange(len(pool))]
                line = _wrap(fmt, ts, host, prog, pid, body, uptime if prog == 'kernel' else None)
                out.append(line)
                size += len(line) + 1
                i += 1
                while si < len(slots) and size >= slots[si] * chunk_target:
                    si += 1
                    kind = rng.choices(('memcg6', 'global5', 'old3'), (5, 3, 2))[0]
                    comm = rng.choice(('java', 'python3', 'memhog', 'postgres', 'main'))
                    epid = rng.randint(300, 4000000)
                    cg = rng.choice(('/kubepods/burstable/pod%s/%s' % (_hex(rng, 8), _hex(rng, 12)),
                                     '/system.slice/app-%d.service' % rng.randint(1, 50), '/batch/job%d' % rng.randint(1, 99)))
                    for k, msg in enumerate(_report(rng, kind, epid, comm, cg)):
                        line = _wrap(fmt, ts, host, 'kernel', 0, msg, uptime + k * 0.000031)
                        out.append(line)
                        size += len(line) + 1
                        if rng.random() < 0.02:  # userspace lines interleave
                            prog, pid, body = pool[rng.randrange(len(pool))]
                            if prog != 'kernel':
                                out.append(_wrap(fmt, ts, host, prog, pid, body))
                    uptime += 0.01
                    n_events += 1
            data = ('\n'.join(out) + '\n').encode()
            f.write(data)
            written += len(data)
    os.replace(tmp, path)
    with open(path + '.meta', 'w') as m:
        json.dump({'events': n_events, 'bytes': written, 'seed': seed}, m)
    return n_events


# ---------------------------------------------------------------------------------------------
# measurement
# ---------------------------------------------------------------------------------------------

def _child_parse(path, state, workers, priority='low'):
    # bytecode of the collection is cached under bench/output (as Python does by default; a
    # PYTHONDONTWRITEBYTECODE environment would otherwise compile ~4000 lines in every run)
    sys.dont_write_bytecode = False
    sys.pycache_prefix = os.path.join(OUT, 'pycache')
    sys.path.insert(0, _pypath())
    from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import gather  # pylint: disable=import-outside-toplevel
    t0 = time.perf_counter()
    res = gather(sources=['files'], paths=[path], max_events=200, state_file=state, config=False,
                 enrich=False, workers=workers, priority=priority)
    el = time.perf_counter() - t0
    src = res['sources'][0]
    print(json.dumps({'seconds': el, 'events': res['summary']['total'], 'by_cause': res['summary']['by_cause'],
                      'bytes': src['bytes'], 'lines': src['lines'], 'status': src['status'],
                      'workers': src['workers'], 'priority': res['priority']['applied']}))


CPU = {}


def _median(values):
    return sorted(values)[len(values) // 2]


def _run_child(args, label=None):
    """Run a child command; returns (wall seconds, stdout, peak RSS KiB of it and its children).
    Its CPU time (user + system, children included) is recorded in CPU[label or args[0]]."""
    t0 = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.PIPE)
    out = p.stdout.read()
    _pid, status, ru = os.wait4(p.pid, 0)
    el = time.perf_counter() - t0
    p.stdout.close()
    p.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, 'waitstatus_to_exitcode') else status
    if p.returncode != 0:
        raise SystemExit('child failed: %r rc=%s' % (args, p.returncode))
    CPU.setdefault(label or args[0], []).append(ru.ru_utime + ru.ru_stime)
    return el, out, ru.ru_maxrss


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    ap.add_argument('--size', type=int, default=1024, help='log size in MiB (default 1024)')
    ap.add_argument('--quick', action='store_true', help='100 MiB, 2 repeats')
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--workers', type=int, default=1, help='parser workers of the main runs (1, the module default; 0 = auto)')
    ap.add_argument('--child-parse', nargs=3, metavar=('PATH', 'STATE', 'WORKERS'), help=argparse.SUPPRESS)
    ap.add_argument('--child-priority', default='low', help=argparse.SUPPRESS)
    ap.add_argument('--no-cold', action='store_true', help='skip the page-cache runs (they read the log from disk twice)')
    ap.add_argument('--no-gz', action='store_true', help='skip the compressed-log runs')
    ap.add_argument('--ansible', default=None,
                    help='ansible executable for the run through Ansible (default: .venv/bin/ansible if present)')
    args = ap.parse_args()
    if args.child_parse:
        path, state, workers = args.child_parse
        _child_parse(path, state if state != '-' else None, int(workers) or None, args.child_priority)
        return 0
    if args.quick:
        args.size = 100
        args.repeat = 2
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, 'oom-bench-%dMiB-seed%d.log' % (args.size, args.seed))
    if not (os.path.exists(path) and os.path.exists(path + '.meta')):
        t0 = time.perf_counter()
        n = generate(path, args.size, args.seed)
        print('generated %s: %d OOM reports in %.1fs' % (path, n, time.perf_counter() - t0))
    with open(path + '.meta') as m:
        meta = json.load(m)
    size = os.path.getsize(path)
    mib = size / 1048576.0
    _warm(path)
    # the parser child runs without site (-S): it needs the standard library only, and site-packages
    # .pth hooks of the host's Python (here one importing certifi, ~30 ms) are no part of the parser
    me = [sys.executable, '-S', os.path.abspath(__file__)]

    def parse(p, workers, state='-', *extra):
        return _run_child(me + ['--child-parse', p, state, str(workers)] + list(extra),
                          'parser-%s-%s%s' % (workers, '-'.join(extra) or 'default', '-state' if state != '-' else ''))

    runs = {'grep': [], 'one': [], 'normal': [], 'auto': []}
    rss = {}
    grep_count = None
    parsed = None
    inproc = []
    auto_workers_seen = []
    for dummy in range(args.repeat):
        el, out, _r = _run_child(['grep', '-cE', GREP_RE, path], 'grep')
        runs['grep'].append(el)
        grep_count = int(out.strip() or 0)
        # the module's defaults: one worker, low priority
        el, out, peak = parse(path, args.workers)
        runs['one'].append(el)
        rss['one'] = max(rss.get('one', 0), peak)
        parsed = json.loads(out)
        inproc.append(parsed['seconds'])
        el, out, peak = parse(path, args.workers, '-', '--child-priority', 'normal')
        runs['normal'].append(el)
        rss['normal'] = max(rss.get('normal', 0), peak)
        el, out, peak = parse(path, 0)
        runs['auto'].append(el)
        rss['auto'] = max(rss.get('auto', 0), peak)
        auto_workers_seen.append(json.loads(out)['workers'])
    with tempfile.TemporaryDirectory() as d:
        state = os.path.join(d, 'state.json')
        parse(path, args.workers, state)
        inc_wall, out, _r = parse(path, args.workers, state)
        inc = json.loads(out)
    g = min(runs['grep'])
    gm = _median(runs['grep'])
    gc = min(CPU['grep'])
    print('log: %s (%.0f MiB, %d lines, %d OOM reports generated)' % (path, mib, parsed['lines'], meta['events']))
    print('grep -cE %r: %d matching lines' % (GREP_RE, grep_count))
    print('parser: %d events %s' % (parsed['events'], json.dumps(parsed['by_cause'], sort_keys=True)))
    print('grep   : best %.3fs (%.0f MiB/s), median %.3fs, CPU %.3fs  runs %s' % (
        g, mib / g, gm, gc, ' '.join('%.3f' % x for x in runs['grep'])))
    for key, label in (('one', 'module, 1 worker, priority low (the defaults)'),
                       ('normal', 'module, 1 worker, priority normal'),
                       ('auto', 'module, workers auto (%s)' % ' '.join(str(w) for w in auto_workers_seen))):
        t = runs[key]
        c = min(CPU['parser-%s-%s' % (0 if key == 'auto' else args.workers,
                                      'default' if key != 'normal' else '--child-priority-normal')])
        print('%-48s: best %.3fs, ratio %.2f best / %.2f median, CPU %.3fs (%.2f), peak RSS %.1f MiB  runs %s' % (
            label, min(t), min(t) / g, _median(t) / gm, c, c / gc, rss[key] / 1024.0,
            ' '.join('%.3f' % x for x in t)))
    pi = min(inproc)
    print('module without interpreter start-up: best %.3fs (%.0f MiB/s), ratio %.2f' % (pi, mib / pi, pi / g))
    print('incremental re-run on the unchanged log: %.1f ms parsing (%.0f ms wall incl. interpreter start), '
          '%d bytes read, %d events' % (inc['seconds'] * 1000, inc_wall * 1000, inc['bytes'], inc['events']))
    if parsed['events'] != meta['events']:
        print('NOTE: parser found %d events, generator wrote %d' % (parsed['events'], meta['events']))
    ansible = args.ansible or os.path.join(REPO, '.venv', 'bin', 'ansible')
    if os.path.exists(ansible):
        _through_ansible(ansible, path, g)
    if not args.no_cold:
        _page_cache(path, me)
    if not args.no_gz:
        _gz(path, me, args.workers, args.repeat)
    return 0


def _warm(path):
    with open(path, 'rb', buffering=0) as f:
        while f.read(16 << 20):
            pass


def _evict(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _resident_mib(path):
    """MiB of ``path`` in the page cache (util-linux fincore), None without fincore."""
    try:
        out = subprocess.run(['fincore', '--bytes', '--noheadings', '--output', 'RES', path], check=True,
                             stdout=subprocess.PIPE, universal_newlines=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return int(out.split()[0]) / 1048576.0


def _meminfo_cached_mib():
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('Cached:'):
                return int(line.split()[1]) / 1024.0
    return None


def _page_cache(path, me):
    """Page cache before and after a run on a log that was not cached: the module's defaults
    against grep (each from a cold start), then the module on a cached log."""
    print('page cache (the log evicted before each run; fincore of the log, and Cached: of /proc/meminfo):')
    for label, cmd in (('grep', ['grep', '-cE', GREP_RE, path]),
                       ('module (defaults)', me + ['--child-parse', path, '-', '1'])):
        _evict(path)
        before, host_before = _resident_mib(path), _meminfo_cached_mib()
        el, _out, _r = _run_child(cmd, 'cold-' + label)
        after, host_after = _resident_mib(path), _meminfo_cached_mib()
        print('  %-18s cold: %.3fs, log cached %.1f -> %.1f MiB (%+.1f), host Cached %+.1f MiB' % (
            label, el, before or 0, after or 0, (after or 0) - (before or 0), host_after - host_before))
    _warm(path)
    before = _resident_mib(path)
    el, _out, _r = _run_child(me + ['--child-parse', path, '-', '1'], 'warm-module')
    after = _resident_mib(path)
    print('  %-18s warm: %.3fs, log cached %.1f -> %.1f MiB (%+.1f)' % (
        'module (defaults)', el, before or 0, after or 0, (after or 0) - (before or 0)))


def _gz(path, me, workers, repeat):
    gz = path + '.gz'
    if not os.path.exists(gz):
        t0 = time.perf_counter()
        with open(gz + '.tmp', 'wb') as out:
            subprocess.run(['gzip', '-c', path], stdout=out, check=True)
        os.replace(gz + '.tmp', gz)
        print('compressed %s in %.1fs' % (gz, time.perf_counter() - t0))
    _warm(gz)
    pipe = 'zcat %s | grep -cE %s' % (_quote(gz), _quote(GREP_RE))
    zt, mt = [], []
    events = None
    for dummy in range(repeat):
        el, _out, _r = _run_child(['sh', '-c', pipe], 'zcat-grep')
        zt.append(el)
        el, out, peak = _run_child(me + ['--child-parse', gz, '-', str(workers)], 'gz-module')
        mt.append(el)
        events = json.loads(out)['events']
    print('compressed log (%.0f MiB gzip): zcat | grep best %.3fs; module best %.3fs, ratio %.2f best / %.2f median, '
          'CPU %.3fs vs %.3fs, peak RSS %.1f MiB, %d events' % (
              os.path.getsize(gz) / 1048576.0, min(zt), min(mt), min(mt) / min(zt), _median(mt) / _median(zt),
              min(CPU['gz-module']), min(CPU['zcat-grep']), peak / 1024.0, events))


def _quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def _through_ansible(ansible, path, grep_best):
    """The module through Ansible (ansible localhost -m oomkit.linux.oom_facts), its defaults."""
    env = dict(os.environ)
    env['ANSIBLE_COLLECTIONS_PATH'] = _pypath()
    args = [ansible, 'localhost', '-c', 'local', '-m', 'oomkit.linux.oom_facts', '-a',
            json.dumps({'sources': ['files'], 'paths': [path], 'gather_config': False, 'enrich': False})]
    times = []
    for dummy in range(2):
        t0 = time.perf_counter()
        p = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            print('through Ansible: rc=%d (collection not installed? make collection)' % p.returncode)
            return
    print('through Ansible (ansible localhost -m oomkit.linux.oom_facts, defaults): best %.3fs, ratio %.2f' % (
        min(times), min(times) / grep_best))


if __name__ == '__main__':
    sys.exit(main())
