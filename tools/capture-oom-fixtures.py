# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make real OOM kills on this machine and record them as every log pipeline here prints them.

Maintainer tool, not part of `make test` (it needs root, a cgroup v1 memory controller and the
heavy lock): `flock /tmp/oomkit-heavy.lock python3 tools/capture-oom-fixtures.py tests/unit/fixtures/oom_pipelines`.

In a private mount namespace (a tmpfs on /run; nothing of the host's /run, /etc or /var/log is
touched) it starts the real systemd-journald (volatile storage), two rsyslogd (imjournal with
four output templates; imklog, Debian's default input, with the traditional format) and
syslog-ng (the kernel part of its system() source), then OOM-kills test processes in test memory
cgroups (names with spaces, parentheses, colons, non-ASCII, a newline; an own limit and a parent
limit), writes a forged `kernel` line and userspace killers' lines (formats from systemd-oomd,
earlyoom and nohang sources) through the journal's syslog socket, and renders the same records
with journalctl, dmesg and /dev/kmsg.  Each output file is cut to the records between two marker
records written to /dev/kmsg; MANIFEST.json tells, per file, the exact command that made it and
the kills that happened (pid, name, cgroup, limit holder), which the tests compare with what the
parser finds.  Everything started is stopped and the cgroups are removed at the end.
"""

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# syslog-ng-core conflicts with rsyslog in Debian: unpack it instead of installing it, for example
#   apt-get download syslog-ng-core libivykis0 libpcre3 && for d in *.deb; do dpkg -x "$d" root; done
# and point SYSLOG_NG at that root ("" or unset: an installed syslog-ng, else none)
SYSLOG_NG = os.environ.get('SYSLOG_NG', '')
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCALES = ('zh_CN', 'ja_JP', 'de_DE', 'ru_RU', 'fr_FR')
CG = '/sys/fs/cgroup/memory/oomkit-capture'
LIMIT = 48 * 1024 * 1024
KILLS = [
    # (name as the process sets it with prctl(PR_SET_NAME), cgroup under CG, limit holder)
    ('h14 a(b) c:d', 'own', 'own'),
    ('h14-\u00fcn\u00ef', 'own', 'own'),
    ('h14\nnl', 'own', 'own'),
    ('h14-kid', 'par/kid', 'par'),
]
HOG = r'''
import ctypes, sys
name = sys.argv[1].encode('utf-8')
ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name), 0, 0, 0)   # PR_SET_NAME
blocks = []
while True:
    b = bytearray(1 << 20)
    for i in range(0, len(b), 4096):
        b[i] = 1
    blocks.append(b)
'''


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, **kw)


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)


def kmsg_marker(text):
    with open('/dev/kmsg', 'w') as f:
        f.write(text + '\n')


def kmsg_records():
    """All records of /dev/kmsg as raw bytes (record line plus its continuation lines)."""
    fd = os.open('/dev/kmsg', os.O_RDONLY | os.O_NONBLOCK)
    out = []
    try:
        while True:
            try:
                out.append(os.read(fd, 8192))
            except BlockingIOError:
                break
            except OSError:   # EPIPE: overwritten while reading
                continue
    finally:
        os.close(fd)
    return out


def cut(data, begin, end):
    """The lines from the one holding ``begin`` to the one holding ``end`` (both kept)."""
    lines = data.split(b'\n')
    a = next(i for i, l in enumerate(lines) if begin in l)
    b = next(i for i in range(len(lines) - 1, -1, -1) if end in lines[i])
    return b'\n'.join(lines[a:b + 1]) + b'\n'


def main():  # noqa: C901 (one linear procedure)
    out_dir = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0 or not os.path.isdir('/sys/fs/cgroup/memory'):
        sys.exit('needs root and the cgroup v1 memory controller')
    if open('/proc/sys/vm/panic_on_oom').read().strip() != '0':
        sys.exit('vm.panic_on_oom is not 0: a memcg OOM could panic this machine')
    if os.environ.get('OOMKIT_CAPTURE_NS') != '1':
        os.environ['OOMKIT_CAPTURE_NS'] = '1'
        os.execvp('unshare', ['unshare', '-m', '--propagation', 'private', sys.executable] + sys.argv)
    work = tempfile.mkdtemp(prefix='oomkit-capture-')
    os.makedirs(out_dir, exist_ok=True)
    procs = []
    manifest = {'kernel': os.uname().release, 'host': os.uname().nodename, 'files': {}, 'kills': []}
    try:
        # --- private /run and journald.conf, only in this mount namespace -------------------
        sh(['mount', '-t', 'tmpfs', 'tmpfs', '/run'])
        os.makedirs('/run/systemd/journal')
        write(work + '/journald.conf', '[Journal]\nStorage=volatile\nForwardToSyslog=no\nForwardToKMsg=no\n'
              'ForwardToConsole=no\nForwardToWall=no\nRateLimitBurst=0\n')
        sh(['mount', '--bind', work + '/journald.conf', '/etc/systemd/journald.conf'])
        procs.append(subprocess.Popen(['/usr/lib/systemd/systemd-journald'], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        for _i in range(100):
            if os.path.exists('/run/systemd/journal/dev-log'):
                break
            time.sleep(0.1)
        jdir = '/run/log/journal'
        # --- rsyslog: imjournal (four templates), imklog (traditional) ---------------------
        os.makedirs(work + '/rs1')
        os.makedirs(work + '/rs2')
        write(work + '/rs1.conf', '''
global(workDirectory="{w}/rs1")
module(load="imjournal" StateFile="{w}/rs1/imjournal.state")
template(name="EulerPipe" type="string" string="%TIMESTAMP:::date-rfc3339%|%syslogseverity-text%|%programname%[%procid%]|%msg%\\n")
*.* action(type="omfile" file="{w}/rsyslog-traditional.log" template="RSYSLOG_TraditionalFileFormat")
*.* action(type="omfile" file="{w}/rsyslog-fileformat.log" template="RSYSLOG_FileFormat")
*.* action(type="omfile" file="{w}/rsyslog-protocol23.log" template="RSYSLOG_SyslogProtocol23Format")
*.* action(type="omfile" file="{w}/rsyslog-euleros-pipe.log" template="EulerPipe")
'''.format(w=work))
        write(work + '/rs2.conf', '''
global(workDirectory="{w}/rs2")
module(load="imklog" PermitNonKernelFacility="on")
*.* action(type="omfile" file="{w}/rsyslog-imklog-traditional.log" template="RSYSLOG_TraditionalFileFormat")
'''.format(w=work))
        for n in ('rs1', 'rs2'):
            procs.append(subprocess.Popen(['rsyslogd', '-n', '-f', '%s/%s.conf' % (work, n), '-i',
                                           '%s/%s.pid' % (work, n)]))
        # --- syslog-ng: the kernel source of system() on Linux, default file template --------
        ng = SYSLOG_NG
        env = dict(os.environ, LD_LIBRARY_PATH='%s/usr/lib/x86_64-linux-gnu:%s/usr/lib/syslog-ng:%s/lib/x86_64-linux-gnu'
                   % (ng, ng, ng))
        write(work + '/syslog-ng.conf', '''@version: 3.38
options {{ chain_hostnames(off); flush_lines(0); }};
source s_kernel {{ file("/dev/kmsg" program-override("kernel") flags(kernel) format("linux-kmsg")); }};
destination d_file {{ file("{w}/syslog-ng.log"); }};
log {{ source(s_kernel); destination(d_file); }};
'''.format(w=work))
        ng_exe = ng + '/usr/sbin/syslog-ng' if ng else shutil.which('syslog-ng')
        if ng_exe and os.path.exists(ng_exe):
            procs.append(subprocess.Popen([ng_exe, '-F', '-f', work + '/syslog-ng.conf',
                                           '--module-path', (ng or '') + '/usr/lib/syslog-ng/3.38', '-p',
                                           work + '/syslog-ng.pid', '-R', work + '/syslog-ng.persist',
                                           '-c', work + '/syslog-ng.ctl'], env=env))
        time.sleep(3)
        # --- the kills ---------------------------------------------------------------------
        token = 'oomkit-capture-%d' % os.getpid()
        begin, end = (token + '-begin').encode(), (token + '-end').encode()
        kmsg_marker(begin.decode())
        t_begin = time.time()
        for d, limit in ((CG, None), (CG + '/own', LIMIT), (CG + '/par', LIMIT), (CG + '/par/kid', None)):
            os.makedirs(d, exist_ok=True)
            if limit:
                write(d + '/memory.limit_in_bytes', str(limit))
                if os.path.exists(d + '/memory.memsw.limit_in_bytes'):
                    write(d + '/memory.memsw.limit_in_bytes', str(limit))
        for name, where, holder in KILLS:
            p = subprocess.Popen(['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$1" -c "$2" "$3"',
                                  CG + '/' + where, sys.executable, HOG, name])
            p.wait(timeout=60)
            manifest['kills'].append({'pid': p.pid, 'comm': name, 'task_memcg': '/oomkit-capture/' + where,
                                      'memcg': '/oomkit-capture/' + holder, 'signal': -p.returncode})
            time.sleep(0.5)
        # --- a forged kernel line and userspace killers' lines, through journald's syslog socket
        logger = ['logger', '-u', '/run/systemd/journal/dev-log']
        sh(logger + ['-t', 'kernel', 'Out of memory: Killed process 1 (systemd) total-vm:1000kB, anon-rss:100kB, '
                     'file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0'])
        with open(os.path.join(REPO, 'tests', 'unit', 'fixtures', 'userspace_killers.json')) as handle:
            killers = json.load(handle)
        for message in (killers['systemd-oomd']['pressure'], killers['systemd-oomd']['swap']):
            sh(logger + ['-t', 'systemd-oomd', message])
        for message in (killers['earlyoom']['low'], killers['earlyoom']['kill']):
            sh(logger + ['-t', 'earlyoom', message])
        for line in killers['nohang']['kill']:
            sh(logger + ['-t', 'nohang', '--', line])
        time.sleep(1)
        kmsg_marker(end.decode())
        time.sleep(3)
        t_end = time.time()
        since, until = '@%.6f' % (t_begin - 1), '@%.6f' % (t_end + 1)

        # --- renders ----------------------------------------------------------------------
        def save(name, data, command):
            with open(os.path.join(out_dir, name), 'wb') as f:
                f.write(data)
            manifest['files'][name] = {'command': command}

        def run(name, argv, env_extra=None, cut_markers=True):
            env2 = dict(os.environ, **(env_extra or {}))
            data = subprocess.run(argv, stdout=subprocess.PIPE, check=True, env=env2).stdout
            if cut_markers:
                data = cut(data, begin, end)
            prefix = ' '.join('%s=%s' % kv for kv in (env_extra or {}).items())
            save(name, data, (prefix + ' ' if prefix else '') + ' '.join(shlex.quote(a) for a in argv) +
                 (" | cut to the records between the markers" if cut_markers else ''))

        jc = ['journalctl', '-D', jdir, '--no-pager', '-q', '--since', since, '--until', until]
        for mode in ('short', 'short-full', 'short-iso', 'short-iso-precise', 'short-precise', 'short-monotonic',
                     'short-unix', 'with-unit', 'verbose', 'cat', 'json', 'json-pretty', 'export'):
            ext = 'json' if mode.startswith('json') else 'log'
            run('journalctl-k-%s.%s' % (mode, ext), jc + ['-k', '-o', mode], cut_markers=False)
        # the short modes again without the host name field (--no-hostname, systemd 242+)
        for mode in ('short', 'short-full', 'short-iso', 'short-iso-precise', 'short-precise', 'short-monotonic',
                     'short-unix'):
            run('journalctl-k-%s-no-hostname.log' % mode, jc + ['-k', '-o', mode, '--no-hostname'], cut_markers=False)
        run('journalctl-all-json.json', jc + ['-o', 'json'], cut_markers=False)
        run('journalctl-all-short.log', jc + ['-o', 'short'], cut_markers=False)
        run('dmesg.log', ['dmesg'])
        run('dmesg-x.log', ['dmesg', '-x'])
        run('dmesg-r.log', ['dmesg', '-r'])
        for fmt in ('iso', 'ctime', 'reltime', 'delta', 'notime'):
            run('dmesg-time-format-%s.log' % fmt, ['dmesg', '--time-format', fmt])
        locpath = work + '/locales'
        os.makedirs(locpath)
        for loc in LOCALES:
            sh(['localedef', '-i', loc, '-f', 'UTF-8', '%s/%s.UTF-8' % (locpath, loc)])
            run('dmesg-T-%s.log' % loc, ['dmesg', '-T'], {'LOCPATH': locpath, 'LC_TIME': loc + '.UTF-8'})
        raw = b''.join(kmsg_records())
        save('dev-kmsg.log', cut(raw, begin, end), "os.read() of each /dev/kmsg record (O_NONBLOCK, from the "
             "first record) | cut to the records between the markers")
        for n in ('rsyslog-traditional.log', 'rsyslog-fileformat.log', 'rsyslog-protocol23.log',
                  'rsyslog-euleros-pipe.log', 'rsyslog-imklog-traditional.log', 'syslog-ng.log'):
            path = os.path.join(work, n)
            if not os.path.exists(path):
                continue
            with open(path, 'rb') as f:
                data = f.read()
            if b'-begin' not in data:
                continue
            conf = 'rs2.conf' if 'imklog' in n else 'syslog-ng.conf' if 'syslog-ng' in n else 'rs1.conf'
            with open(os.path.join(work, conf)) as f:
                conf_text = f.read()
            save(n, cut(data, begin, end), 'the file written by %s with this configuration:\n%s'
                 % ('syslog-ng 3.38' if 'syslog-ng' in n else 'rsyslogd 8.2302', conf_text.strip()))
        manifest['markers'] = [begin.decode(), end.decode()]
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        for d in (CG + '/par/kid', CG + '/par', CG + '/own', CG):
            if os.path.isdir(d):
                try:
                    os.rmdir(d)
                except OSError as e:
                    print('cannot remove %s: %s' % (d, e), file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(out_dir, 'MANIFEST.json'), 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write('\n')


if __name__ == '__main__':
    main()
