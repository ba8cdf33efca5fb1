# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The watch collector and its Follower: counts that neither repeat nor drop.

The collector runs as the role installs it: a bare copy of the collector and of the module_utils
files the oomkit.linux.target_files lookup finds, started with ``python3 -I -S`` (standard library
only, no site-packages, so no Ansible). The logs are real kernel reports (tests/unit/fixtures/oom_logs,
from this machine and from the kernel's printk formats) appended, rotated, compressed and deleted
the way syslog daemons and logrotate do.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import CAUSES
from ansible_collections.oomkit.linux.plugins.module_utils.oom_watch import Follower, identity, same_decision, unit_of
from ansible_collections.oomkit.linux.plugins.plugin_utils.target_files import (
    TargetFilesError,
    collection_root,
    target_files,
)

ROOT = collection_root()
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), 'fixtures', 'oom_logs')
COLLECTOR = os.path.join(ROOT, 'roles', 'watch', 'files', 'oomkit_watch.py')


def fixture(name):
    with open(os.path.join(FIXTURES, name), 'rb') as f:
        return f.read()


OWN = fixture('dmesg-6.18-memcg-v1-own-limit.log')            # 1 kill, cgroup_limit
PARENT = fixture('dmesg-6.18-memcg-v1-parent-limit.log')      # 2 kills, parent_cgroup_limit + cgroup_limit
FRAG = fixture('kernel-4.14-global-fragmentation.log')        # 1 kill, fragmentation
EULER = fixture('kernel-5.10-openeuler-rfc3339.log')          # 1 kill, system_memory


@pytest.fixture
def bare(tmp_path):
    """The collector as the role installs it, in a directory of its own."""
    lib = tmp_path / 'lib'
    lib.mkdir()
    shutil.copy(COLLECTOR, str(lib / 'oomkit_watch.py'))
    for item in target_files(COLLECTOR, ROOT):
        dest = lib / item['dest']
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(item['src'], str(dest))
    return lib


class Host(object):
    """A scratch 'host': a log directory, a config, and the bare collector."""

    def __init__(self, tmp_path, lib, **cfg):
        self.dir = tmp_path
        self.lib = lib
        self.log = tmp_path / 'log'
        self.log.mkdir()
        (tmp_path / 'textfile').mkdir()
        self.cfg = {'sources': ['files'], 'paths': [str(self.log / 'kern.log*')],
                    'textfile': str(tmp_path / 'textfile' / 'oomkit_watch.prom'),
                    'state_file': str(tmp_path / 'state' / 'watch.state'),
                    'events_file': str(tmp_path / 'state' / 'watch-events.json'), 'enrich': False}
        self.cfg.update(cfg)
        self.config = tmp_path / 'watch.json'
        self.config.write_text(json.dumps(self.cfg))

    def append(self, data, name='kern.log'):
        with open(str(self.log / name), 'ab') as f:
            f.write(data)

    def run(self, expect_rc=0):
        # -I: isolated (no PYTHONPATH, no user site), -S: no site-packages; only the standard library
        proc = subprocess.run([sys.executable, '-I', '-S', str(self.lib / 'oomkit_watch.py'), '--config',
                               str(self.config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        assert proc.returncode == expect_rc, proc.stderr.decode()
        return proc

    def metrics(self):
        out = {}
        with open(self.cfg['textfile']) as f:
            for line in f:
                if not line.startswith('#'):
                    name, value = line.rsplit(' ', 1)
                    out[name] = float(value)
        return out

    def kills(self):
        m = self.metrics()
        return dict((c, int(m['oomkit_oom_kills_total{cause="%s"}' % c])) for c in CAUSES)

    def total(self):
        return sum(self.kills().values())


def test_payload_is_module_utils_only_and_follows_every_import():
    files = [i['dest'] for i in target_files(COLLECTOR, ROOT)]
    prefix = 'ansible_collections/oomkit/linux/plugins/module_utils/'
    assert all(f.startswith(prefix) for f in files)
    names = set(f[len(prefix):] for f in files)
    # the collector's own imports, and theirs (oom_sources imports oom_log; cgroups inside a function)
    assert {'oom_watch.py', 'oom_sources.py', 'oom_log.py'} <= names
    assert 'cgroups.py' in names
    # every module the collector really imports when it runs is shipped (the walk may add more:
    # it also follows imports made inside functions)
    code = ('import sys, runpy; sys.argv = ["x", "--help"]\n'
            'try:\n    runpy.run_path(%r, run_name="__main__")\nexcept SystemExit:\n    pass\n'
            'print("\\n".join(m for m in sys.modules if m.startswith("ansible_collections.oomkit.linux.")))') % COLLECTOR
    proc = subprocess.run([sys.executable, '-c', code], stdout=subprocess.PIPE, check=True,
                          env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.dirname(ROOT)))))
    mu = 'ansible_collections.oomkit.linux.plugins.module_utils.'
    loaded = [m[len(mu):].replace('.', '/') for m in proc.stdout.decode().split() if m.startswith(mu)]
    assert loaded
    missing = [m for m in loaded if m + '.py' not in names and m + '/__init__.py' not in names]
    assert not missing


def test_a_package_is_shipped_whole_and_relative_imports_are_followed(tmp_path):
    # a collection tree where oom_log has become a package (the split H14 may make)
    root = tmp_path / 'ansible_collections' / 'oomkit' / 'linux'
    mu = root / 'plugins' / 'module_utils'
    (mu / 'oom_log').mkdir(parents=True)
    (mu / 'oom_log' / '__init__.py').write_text('from .scan import scan\n')
    (mu / 'oom_log' / 'scan.py').write_text('import re\nfrom ..hostfs import x\n')
    (mu / 'oom_log' / 'causes.py').write_text('CAUSES = ()\n')
    (mu / 'hostfs.py').write_text('import os\nx = 1\n')
    (mu / 'unused.py').write_text('import os\n')
    entry = tmp_path / 'entry.py'
    entry.write_text('from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import scan\n')
    got = sorted(i['dest'] for i in target_files(str(entry), str(root)))
    base = 'ansible_collections/oomkit/linux/plugins/module_utils/'
    assert got == [base + 'hostfs.py', base + 'oom_log/__init__.py', base + 'oom_log/causes.py',
                   base + 'oom_log/scan.py']


def test_a_non_stdlib_import_is_refused(tmp_path):
    root = tmp_path / 'ansible_collections' / 'oomkit' / 'linux'
    mu = root / 'plugins' / 'module_utils'
    mu.mkdir(parents=True)
    (mu / 'bad.py').write_text('def f():\n    import yaml\n')
    entry = tmp_path / 'entry.py'
    entry.write_text('from ansible_collections.oomkit.linux.plugins.module_utils import bad\n')
    with pytest.raises(TargetFilesError, match='yaml'):
        target_files(str(entry), str(root))
    (mu / 'bad.py').write_text('from ansible.module_utils.basic import AnsibleModule\n')
    with pytest.raises(TargetFilesError, match='ansible.module_utils.basic'):
        target_files(str(entry), str(root))


def test_the_bare_copy_has_no_ansible(bare):
    # the interpreter the collector runs under cannot import Ansible: the copy is self-sufficient
    proc = subprocess.run([sys.executable, '-I', '-S', '-c', 'import ansible'], stderr=subprocess.PIPE, check=False)
    assert proc.returncode != 0
    assert not (bare / 'ansible_collections' / 'oomkit' / 'linux' / 'plugins' / 'modules').exists()


def test_first_run_takes_the_position_then_counts_each_new_kill_once(tmp_path, bare):
    host = Host(tmp_path, bare)
    host.append(OWN)
    host.run()
    assert host.kills() == dict((c, 0) for c in CAUSES)     # every cause, from the start
    events = json.loads(open(host.cfg['events_file']).read())['events']
    assert [e['killed_pid'] for e in events] == [12039]     # history kept for diagnosis, not counted
    host.append(PARENT)
    host.run()
    kills = host.kills()
    assert kills['parent_cgroup_limit'] == 1 and kills['cgroup_limit'] == 1 and host.total() == 2
    host.run()
    host.run()                                              # restarts: nothing new, nothing repeated
    assert host.total() == 2
    m = host.metrics()
    assert m['oomkit_watch_runs_total'] == 4
    assert m['oomkit_watch_read_errors_total'] == 0
    assert m['oomkit_watch_last_success_timestamp_seconds'] > 0


def test_count_existing_counts_the_history(tmp_path, bare):
    host = Host(tmp_path, bare, count_existing=True)
    host.append(OWN + PARENT)
    host.run()
    assert host.kills()['cgroup_limit'] == 2 and host.total() == 3


def test_rename_rotation_compression_and_deletion(tmp_path, bare):
    host = Host(tmp_path, bare)
    host.append(OWN)
    host.run()
    # written after the last run, then rotated away by rename before the next run
    host.append(FRAG)
    os.rename(str(host.log / 'kern.log'), str(host.log / 'kern.log.1'))
    host.append(EULER)                                      # the new live file
    host.run()
    kills = host.kills()
    assert kills['fragmentation'] == 1 and kills['system_memory'] == 1 and host.total() == 2
    # compressed by the next rotation: the same content under a new name and form, not counted again
    with open(str(host.log / 'kern.log.1'), 'rb') as src, gzip.open(str(host.log / 'kern.log.2.gz'), 'wb') as dst:
        dst.write(src.read())
    os.unlink(str(host.log / 'kern.log.1'))
    os.rename(str(host.log / 'kern.log'), str(host.log / 'kern.log.1'))
    host.append(b'')
    host.run()
    assert host.total() == 2
    # every log deleted (vacuumed): the counter keeps its totals
    for name in os.listdir(str(host.log)):
        os.unlink(str(host.log / name))
    host.run()
    assert host.total() == 2
    host.append(PARENT)
    host.run()
    assert host.total() == 4


def test_copytruncate_rotation(tmp_path, bare):
    host = Host(tmp_path, bare)
    host.append(OWN)
    host.run()
    host.append(FRAG)
    shutil.copy(str(host.log / 'kern.log'), str(host.log / 'kern.log.1'))
    with open(str(host.log / 'kern.log'), 'r+b') as f:
        f.truncate(0)
    host.append(EULER)
    host.run()
    assert host.kills()['fragmentation'] == 1 and host.kills()['system_memory'] == 1 and host.total() == 2


def test_a_report_cut_by_the_read_is_counted_once_when_its_kill_line_comes(tmp_path, bare):
    host = Host(tmp_path, bare)
    host.append(b'')
    host.run()
    cut = PARENT.index(b'Killed process')
    cut = PARENT.rindex(b'\n', 0, cut) + 1
    host.append(PARENT[:cut])
    host.run()
    assert host.total() == 0                                # held back: its kill line may follow
    pending = json.loads(open(host.cfg['events_file']).read())['events']
    assert pending and pending[-1]['total_vm_kb'] is None     # listed, without the kill line's sizes
    host.append(PARENT[cut:])
    host.run()
    kills = host.kills()
    assert kills['parent_cgroup_limit'] == 1 and kills['cgroup_limit'] == 1 and host.total() == 2
    host.run()
    assert host.total() == 2


def test_a_damaged_state_is_set_aside(tmp_path, bare):
    host = Host(tmp_path, bare)
    host.append(OWN)
    host.run()
    with open(host.cfg['state_file'], 'w') as f:
        f.write('{not json')
    proc = host.run()
    assert b'moved to' in proc.stderr
    assert os.path.exists(host.cfg['state_file'] + '.damaged')
    assert host.total() == 0


def test_bad_configuration_names_the_option_and_writes_nothing(tmp_path, bare):
    host = Host(tmp_path, bare, nice=40)
    proc = host.run(expect_rc=1)
    assert b'nice' in proc.stderr
    assert not os.path.exists(host.cfg['textfile'])
    assert not os.path.exists(host.cfg['state_file'])
    host.config.write_text(json.dumps(dict(host.cfg, nice=19, colour='red')))
    proc = host.run(expect_rc=1)
    assert b'colour' in proc.stderr


def test_the_textfile_is_replaced_atomically_and_readable(tmp_path, bare):
    host = Host(tmp_path, bare)
    host.append(OWN)
    host.run()
    st = os.stat(host.cfg['textfile'])
    assert oct(st.st_mode & 0o777) == '0o644'
    assert os.listdir(os.path.dirname(host.cfg['textfile'])) == ['oomkit_watch.prom']   # no temp file left
    text = open(host.cfg['textfile']).read()
    assert 'pid' not in text and 'comm' not in text        # low-cardinality labels only
    assert '# TYPE oomkit_oom_kills_total counter' in text


def test_follower_since_all_and_state_round_trip(tmp_path):
    log = tmp_path / 'kern.log'
    log.write_bytes(OWN)
    f = Follower(None, sources=['files'], paths=[str(log)], since='all', enrich=False)
    out = f.poll()
    assert [e['killed_pid'] for e in out] == [12039]
    for ev in out:
        f.handed_out(ev)
    f.commit()
    state = json.loads(json.dumps(f.state))
    with open(str(log), 'ab') as fh:
        fh.write(PARENT)
    g = Follower(state, sources=['files'], paths=[str(log)], since='all', enrich=False)
    assert [e['killed_pid'] for e in g.poll()] == [12672, 12874]


def test_follower_handed_out_but_not_committed_is_not_repeated(tmp_path):
    # a crash after handing out, before the position was saved: the next start reads the same
    # lines again and recognises what it already handed out
    log = tmp_path / 'kern.log'
    log.write_bytes(b'')
    f = Follower(None, sources=['files'], paths=[str(log)], since='now', enrich=False)
    f.poll()
    f.commit()
    with open(str(log), 'ab') as fh:
        fh.write(PARENT)
    out = f.poll()
    f.handed_out(out[0])                  # the first one is out, then the process dies
    g = Follower(json.loads(json.dumps(f.state)), sources=['files'], paths=[str(log)], enrich=False)
    assert [e['killed_pid'] for e in g.poll()] == [12874]


def test_identity_and_unit():
    a = {'host': 'h', 'killed_pid': 5, 'killed_comm': 'x', 'time': '2026-11-26T00:30:01+00:00', 'uptime': None}
    b = dict(a, time='2026-11-26T00:30:02+00:00', host=None)
    c = dict(a, killed_pid=6)
    assert same_decision(identity(a), identity(b))
    assert not same_decision(identity(a), identity(c))
    assert unit_of({'task_memcg': '/system.slice/web.service', 'memcg': '/system.slice'}) == 'web.service'
    assert unit_of({'memcg': '/machine.slice/libpod-1.scope/system.slice/db.service'}) == 'db.service'
    assert unit_of({'memcg': '/oomkit-test'}) is None
