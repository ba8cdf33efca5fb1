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

def _child_parse(path, state, workers, thorough=False):
    # bytecode of the collection is cached under bench/output (as Python does by default; a
    # PYTHONDONTWRITEBYTECODE environment would otherwise compile ~4000 lines in every run)
    sys.dont_write_bytecode = False
    sys.pycache_prefix = os.path.join(OUT, 'pycache')
    sys.path.insert(0, _pypath())
    from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import gather  # pylint: disable=import-outside-toplevel
    t0 = time.perf_counter()
    res = gather(sources=['files'], paths=[path], max_events=200, state_file=state, config=False,
                 enrich=False, workers=workers, thorough=thorough)
    el = time.perf_counter() - t0
    src = res['sources'][0]
    print(json.dumps({'seconds': el, 'events': res['summary']['total'], 'by_cause': res['summary']['by_cause'],
                      'bytes': src['bytes'], 'lines': src['lines'], 'status': src['status'],
                      'workers': src['workers']}))


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
    ap.add_argument('--workers', type=int, default=0, help='parser workers (0 = auto)')
    ap.add_argument('--child-parse', nargs=3, metavar=('PATH', 'STATE', 'WORKERS'), help=argparse.SUPPRESS)
    ap.add_argument('--child-thorough', action='store_true', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_parse:
        path, state, workers = args.child_parse
        _child_parse(path, state if state != '-' else None, int(workers) or None, args.child_thorough)
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
    # warm the page cache for both contenders
    with open(path, 'rb', buffering=0) as f:
        while f.read(16 << 20):
            pass
    # the parser child runs without site (-S): it needs the standard library only, and site-packages
    # .pth hooks of the host's Python (here one importing certifi, ~30 ms) are no part of the parser
    me = [sys.executable, '-S', os.path.abspath(__file__)]
    grep_times = []
    parse_times = []
    worker_counts = []
    one_times = []
    one_rss = 0
    inproc_times = []
    rss = []
    grep_count = None
    parsed = None
    for dummy in range(args.repeat):
        el, out, _r = _run_child(['grep', '-cE', GREP_RE, path])
        grep_times.append(el)
        grep_count = int(out.strip() or 0)
        el, out, peak = _run_child(me + ['--child-parse', path, '-', str(args.workers)], 'parser')
        parse_times.append(el)
        rss.append(peak)
        parsed = json.loads(out)
        inproc_times.append(parsed['seconds'])
        worker_counts.append(parsed['workers'])
        if args.workers != 1:
            # one process, as on a host without an idle CPU
            el, _out, one_peak = _run_child(me + ['--child-parse', path, '-', '1'])
            one_times.append(el)
            one_rss = max(one_rss, one_peak)
    # thorough=true: a no-op now (kept to show it costs nothing more)
    thorough_t, out, _r = _run_child(me + ['--child-parse', path, '-', str(args.workers), '--child-thorough'])
    thorough_events = json.loads(out)['events']
    with tempfile.TemporaryDirectory() as d:
        state = os.path.join(d, 'state.json')
        _run_child(me + ['--child-parse', path, state, str(args.workers)])
        inc_wall, out, _r = _run_child(me + ['--child-parse', path, state, str(args.workers)])
        inc = json.loads(out)
    g = min(grep_times)
    p = min(parse_times)
    print('log: %s (%.0f MiB, %d lines, %d OOM reports generated)' % (path, mib, parsed['lines'], meta['events']))
    print('grep -cE %r: %d matching lines' % (GREP_RE, grep_count))
    print('parser: %d events %s' % (parsed['events'], json.dumps(parsed['by_cause'], sort_keys=True)))
    print('grep   : best %.3fs  (%.0f MiB/s)  runs %s' % (g, mib / g, ' '.join('%.3f' % x for x in grep_times)))
    print('parser : best %.3fs  (%.0f MiB/s)  runs %s  (workers %s)' % (
        p, mib / p, ' '.join('%.3f' % x for x in parse_times), ' '.join(str(w) for w in worker_counts)))
    print('ratio parser/grep: %.2f (best vs best), %.2f (median vs median)' % (
        p / g, _median(parse_times) / _median(grep_times)))
    gc = min(CPU['grep'][-args.repeat:])
    pc = min(CPU['parser'])
    print('CPU time (user+sys): grep %.3fs, parser %.3fs, ratio %.2f  (the fair figure on a loaded machine)' % (
        gc, pc, pc / gc))
    pi = min(inproc_times)
    print('parser without interpreter start-up: best %.3fs (%.0f MiB/s), ratio %.2f' % (pi, mib / pi, pi / g))
    if one_times:
        one_t = min(one_times)
        print('parser with 1 worker: best %.3fs (%.0f MiB/s), ratio %.2f (best vs best), %.2f (median vs median), '
              'runs %s, peak RSS %.1f MiB' % (
                  one_t, mib / one_t, one_t / g, _median(one_times) / _median(grep_times),
                  ' '.join('%.3f' % x for x in one_times), one_rss / 1024.0))
    print('parser with thorough=true (a no-op since every shape is always searched): %.3fs, ratio %.2f, %d events' % (
        thorough_t, thorough_t / g, thorough_events))
    print('peak RSS of the parser process tree: %.1f MiB' % (max(rss) / 1024.0))
    print('incremental re-run on the unchanged log: %.1f ms parsing (%.0f ms wall incl. interpreter start), '
          '%d bytes read, %d events' % (inc['seconds'] * 1000, inc_wall * 1000, inc['bytes'], inc['events']))
    if parsed['events'] != meta['events']:
        print('NOTE: parser found %d events, generator wrote %d' % (parsed['events'], meta['events']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
