# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The oomkit.linux.oom_events source and the example rulebook, with the real ansible-rulebook
(Java 17) and real OOM kills of this machine's kernel (a cgroup v1 memory limit), read from
/dev/kmsg.

One burst of kills of one "unit" gives one event per kill; the diagnosis rule fires once (the
throttle), the hardening-proposal rule fires once, from the third kill on. A restart with the same
cursor emits nothing again; the next kill is one event. Run as root: `make eda` (the Makefile runs it
with the dev venv, whose ansible-rulebook is in requirements-dev.txt).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from ansible_collections.oomkit.linux.tests.real_host import remove_cgroup

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULEBOOK = os.path.join(REPO, 'extensions', 'eda', 'rulebooks', 'oom_react.yml')
MEMCG = '/sys/fs/cgroup/memory'
BIN = os.path.dirname(sys.executable)

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not os.path.isdir(MEMCG),
                                reason='needs root and the cgroup v1 memory controller')


@pytest.fixture
def unit_cgroup():
    with open('/proc/sys/vm/panic_on_oom') as f:
        assert f.read().strip() == '0', 'never make an OOM on a machine that would panic'

    """A memory cgroup named like a systemd service, limited to 32 MiB; removed afterwards."""
    name = 'oomkit-eda-%d.service' % os.getpid()
    path = os.path.join(MEMCG, name)
    os.mkdir(path)
    try:
        with open(os.path.join(path, 'memory.limit_in_bytes'), 'w') as f:
            f.write('%d\n' % (32 << 20))
        yield name, path
    finally:
        remove_cgroup(path)


def oom_kill(cg_path):
    """One real OOM kill: a process moves itself into the cgroup and allocates 256 MiB."""
    code = ("import os; open(%r, 'w').write(str(os.getpid())); b = bytearray(256 << 20)"
            % os.path.join(cg_path, 'cgroup.procs'))
    proc = subprocess.run([sys.executable, '-c', code], check=False)
    assert proc.returncode == -signal.SIGKILL


class Rulebook(object):
    def __init__(self, tmp, host):
        self.tmp = tmp
        self.out = open(os.path.join(tmp, 'rulebook.log'), 'ab')  # pylint: disable=consider-using-with
        self.cursor = os.path.join(tmp, 'oom_events.cursor')
        inv = os.path.join(tmp, 'inventory.yml')
        with open(inv, 'w') as f:
            json.dump({'all': {'hosts': {host: {'ansible_connection': 'local',
                                                'ansible_python_interpreter': sys.executable}}}}, f)
        self.vars = os.path.join(tmp, 'vars.yml')
        with open(self.vars, 'w') as f:
            json.dump({'oom_cursor_file': self.cursor, 'oom_sources': 'dmesg', 'oom_hosts': host,
                       'oom_report_dir': os.path.join(tmp, 'report'), 'oom_become': False}, f)
        env = dict(os.environ)
        env['PATH'] = BIN + os.pathsep + env.get('PATH', '')
        env['ANSIBLE_COLLECTIONS_PATH'] = os.path.join(REPO, '.tmp', 'live')
        self.started = time.time()
        env.setdefault('JAVA_HOME', os.path.dirname(os.path.dirname(os.path.realpath(shutil.which('java')))))
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [os.path.join(BIN, 'ansible-rulebook'), '-i', inv, '--rulebook', RULEBOOK, '--vars', self.vars,
             '--print-events', '-v'], cwd=tmp, env=env, stdout=self.out, stderr=subprocess.STDOUT,
            start_new_session=True)

    def wait_ready(self, timeout=120):
        """Until the source has made a pass (it saves the cursor after each one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log()
            if os.path.exists(self.cursor) and os.stat(self.cursor).st_mtime > self.started:
                return
            time.sleep(0.5)
        raise AssertionError('the source never started:\n' + self.log())

    def log(self):
        if not self.out.closed:
            self.out.flush()
        with open(os.path.join(self.tmp, 'rulebook.log'), 'rb') as f:
            return f.read().decode('utf-8', 'replace')

    def wait_for(self, predicate, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.log()):
                return
            assert self.proc.poll() is None, self.log()
            time.sleep(1)
        raise AssertionError('timed out:\n' + self.log())

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.out.close()


def events_of(log, unit):
    """The OOM events ansible-rulebook printed (--print-events) for our cgroup."""
    return log.count("'unit': '%s'" % unit)


DIAGNOSE = 'PLAY [Diagnose OOM kills across the fleet]'
HARDEN = 'PLAY [Propose OOM hardening (check mode, nothing changes)]'


def test_burst_of_real_kills_fires_each_rule_once_and_restart_neither_drops_nor_repeats(tmp_path, unit_cgroup):
    unit, cg = unit_cgroup
    host = socket.gethostname()
    rb = Rulebook(str(tmp_path), host)
    try:
        rb.wait_ready()
        for dummy in range(4):
            oom_kill(cg)
        # one event per kill, each with the parsed fields and the cause
        rb.wait_for(lambda log: events_of(log, unit) >= 4)
        # both playbooks ran to their end
        rb.wait_for(lambda log: log.count('PLAY RECAP') >= 2)
        time.sleep(5)                          # a third run would have started by now
        log = rb.log()
        assert events_of(log, unit) == 4
        assert "'cause': 'cgroup_limit'" in log
        assert "'memcg_limit_kb': 32768" in log
        assert "'unit_kills': 4" in log
        # the throttles: one diagnosis for the burst, one hardening proposal (kills 3 and 4 matched)
        assert log.count(DIAGNOSE) == 1, log
        assert log.count(HARDEN) == 1, log
        assert log.count('PLAY RECAP') == 2 and 'failed=0' in log and 'failed=1' not in log, log
        report = json.loads((tmp_path / 'report' / 'report.json').read_text())
        assert report['summary']['hosts_total'] == 1
    finally:
        rb.stop()
    first = rb.log()
    # a restart with the same cursor: nothing is emitted again
    rb2 = Rulebook(str(tmp_path), host)
    try:
        rb2.wait_ready()
        time.sleep(6)                          # three polls
        assert events_of(rb2.log(), unit) - events_of(first, unit) == 0
        oom_kill(cg)                           # and the next kill is one event
        rb2.wait_for(lambda log: events_of(log, unit) - events_of(first, unit) >= 1)
        time.sleep(4)
        assert events_of(rb2.log(), unit) - events_of(first, unit) == 1
    finally:
        rb2.stop()
