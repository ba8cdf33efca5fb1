# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bad-input and fault matrix, per module (issue 13).

Every module is run through its real ``main()`` with hostile or careless input. Each bad input
must fail with a message that names the option (and the bound, when there is one), never with
Python's own exception text, and must leave the host as it was. The faults are real where this
machine can make them: a read-only tmpfs gives a real EROFS, a 64 KiB tmpfs a real ENOSPC, a
real process is SIGKILLed in the middle of a write, a real cgroup v1 limit below unreclaimable
usage gives a real EBUSY, a reaped child is a real vanished PID, real FIFOs and real symlinks.

Where a row is proven in a more specific file, the matrix points there instead of repeating it:

==================  =====================================================================
category            where
==================  =====================================================================
range, type,        CASES below (every module)
bounds, NUL,
newline, unicode,
traversal
symlinks            CASES (sysctl_file -> /dev/zero, pidfile, state_file); write-through of a
                    symlinked sysctl file: test_managed_file.py; log links: test_log_file_rules.py;
                    planted cgroup links: test_cgroups.py
FIFOs               CASES (sysctl_file, pidfile, state_file); logs: test_log_file_rules.py
vanished pid        test_vanished_pid_is_not_a_failure (oom_score_adj, cgroup_memory)
read-only /proc/sys test_read_only_proc_sys_is_a_clear_error_and_writes_nothing (a read-only
                    tmpfs); the real unprivileged container: molecule scenario sysctl_readonly
missing controller  test_missing_memory_controller_is_a_clear_error (fixture tree: this machine
                    has the controller, so its absence can only be a tree)
EBUSY               test_ebusy_from_the_real_kernel_rolls_back (real v1 cgroup, real process)
full disk           test_full_disk_keeps_the_old_file (a real 64 KiB tmpfs)
kill -9 mid-write   test_kill_9_in_the_middle_of_a_write_leaves_old_or_new_never_half
concurrent runs     test_managed_file.py::test_ten_concurrent_runs_into_one_file_all_keep_their_key
                    (ten real processes) and test_the_lock_excludes_a_second_holder
==================  =====================================================================
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostError, HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.reconcile import ApplyError
from ansible_collections.oomkit.linux.plugins.module_utils.sysctl import SysctlRun
from ansible_collections.oomkit.linux.plugins.modules import cgroup_memory, oom_facts, oom_score_adj, sysctl, systemd_oom
from ansible_collections.oomkit.linux.tests.unit.plugins.modules.harness import run_main

IS_ROOT = os.geteuid() == 0
V1 = "/sys/fs/cgroup/memory"
HAS_V1 = os.path.isfile(V1 + "/memory.limit_in_bytes")
MODULES = {"sysctl": sysctl.main, "cgroup_memory": cgroup_memory.main, "oom_score_adj": oom_score_adj.main,
           "systemd_oom": systemd_oom.main, "oom_facts": oom_facts.main}
# What Python says when it is the one that failed; never in one of our messages.
RAW_PYTHON = ("Traceback", "Exceeds the limit", "embedded null", "invalid literal", "object has no attribute",
              "cannot convert float", "unhashable", "NoneType")


@pytest.fixture(autouse=True)
def capture_exit(module_exit):
    return module_exit


# nothing here may block: the deadline fixture (tests/unit/plugins/conftest.py) applies to every test
pytestmark = pytest.mark.usefixtures("deadline")


def snapshot(root):
    """Every path below ``root`` with its kind and content: to prove a failed run changed nothing."""
    found = {}
    for directory, dirs, files in os.walk(str(root)):
        for name in dirs + files:
            path = os.path.join(directory, name)
            if os.path.islink(path):
                found[path] = ("link", os.readlink(path))
            elif os.path.isfile(path):
                with open(path, "rb") as handle:
                    found[path] = ("file", handle.read())
            else:
                found[path] = ("other", None)
    return found


def scratch_files(tmp_path):
    """Bad inputs point at files below tmp_path; put the special ones there."""
    os.mkfifo(str(tmp_path / "fifo"))
    (tmp_path / "to-zero").symlink_to("/dev/zero")
    (tmp_path / "to-shadow").symlink_to("/etc/shadow")
    return tmp_path


T = "{tmp}"  # replaced by the test's tmp_path

# (module, category, arguments, text the error must contain)
CASES = [
    # --- sysctl ------------------------------------------------------------------------------------
    ("sysctl", "range", {"settings": {"vm.panic_on_oom": 3}}, "vm.panic_on_oom: 3 is out of range; allowed: 0..2"),
    ("sysctl", "range", {"settings": {"vm.swappiness": -1}}, "vm.swappiness: -1 is out of range"),
    ("sysctl", "type", {"settings": {"vm.swappiness": [1]}}, "vm.swappiness: a value must be a number or a string"),
    ("sysctl", "type", {"settings": {"vm.swappiness": "ten"}}, "vm.swappiness: 'ten' is not an integer"),
    ("sysctl", "bounds", {"settings": {"vm.swappiness": "9" * 400}}, "vm.swappiness: a number of 400 digits is out of range"),
    ("sysctl", "bounds", {"settings": {"kernel.panic": 2 ** 31}}, "kernel.panic: 2147483648 is out of range"),
    ("sysctl", "bounds", {"settings": {"vm.swappiness": 1}, "sysctl_file": "/" + "x" * 5000}, "sysctl_file: 5001 bytes long"),
    ("sysctl", "NUL", {"settings": {"vm.swap\0piness": 1}}, "contains a NUL byte"),
    ("sysctl", "NUL", {"settings": {"vm.swappiness": "1\0"}}, "settings: vm.swappiness: contains a NUL byte"),
    ("sysctl", "NUL", {"settings": {"vm.swappiness": 1}, "sysctl_file": T + "/a\0b.conf"}, "sysctl_file: contains a NUL byte"),
    ("sysctl", "newline", {"settings": {"vm.swappiness\nkernel.panic": 1}}, "contains a newline ('\\n')"),
    ("sysctl", "newline", {"settings": {"vm.swappiness": "1\nkernel.core_pattern = |/tmp/x"}},
     "settings: vm.swappiness: "),
    ("sysctl", "unicode", {"settings": {"vm.swappiness": "1\u20282"}}, "Unicode line separator"),
    ("sysctl", "unicode", {"settings": {"vm.sw\u00e4ppiness": 1}}, "vm.sw\u00e4ppiness does not exist on this kernel"),
    ("sysctl", "traversal", {"settings": {"vm/../kernel/panic": 1}}, "is not a valid sysctl name"),
    ("sysctl", "traversal", {"settings": {"vm.swappiness": 1}, "sysctl_file": "etc/sysctl.d/x.conf"},
     "sysctl_file: 'etc/sysctl.d/x.conf' is not an absolute path"),
    ("sysctl", "empty", {"settings": {"vm.swappiness": 1}, "sysctl_file": ""}, "sysctl_file: an empty path"),
    ("sysctl", "write-only", {"settings": {"vm.drop_caches": 3}}, "vm.drop_caches is write-only"),
    ("sysctl", "symlinks", {"settings": {"vm.swappiness": 1}, "sysctl_file": T + "/to-zero"}, "is not a regular file (a character device)"),
    ("sysctl", "FIFOs", {"settings": {"vm.swappiness": 1}, "sysctl_file": T + "/fifo"}, "is not a regular file (a FIFO)"),
    # --- cgroup_memory -----------------------------------------------------------------------------
    ("cgroup_memory", "range", {"path": "oomkit-matrix", "swappiness": 500}, "swappiness: 500 is out of range (allowed: 0..200)"),
    ("cgroup_memory", "range", {"path": "oomkit-matrix", "max": "-5M"}, "max: negative size"),
    ("cgroup_memory", "type", {"path": "oomkit-matrix", "max": [1]}, "max: expected a size"),
    ("cgroup_memory", "type", {"path": "oomkit-matrix", "oom_kill_disable": "maybe"}, "oom_kill_disable"),
    ("cgroup_memory", "bounds", {"path": "oomkit-matrix", "max": "9" * 5000}, "max: '9999"),
    ("cgroup_memory", "bounds", {"path": "oomkit-matrix", "max": 2 ** 70}, "max: a number of 71 bits is larger than the kernel can store"),
    ("cgroup_memory", "bounds", {"path": "oomkit-matrix", "max": "0.0000001K"}, "max: '0.0000001K' is less than one byte"),
    ("cgroup_memory", "bounds", {"path": "oomkit-matrix", "qos_level": 10 ** 30}, "qos_level: a number of 100 bits is out of range (allowed: -1024..1023)"),
    ("cgroup_memory", "bounds", {"path": "oomkit-matrix", "procs": [2 ** 40]}, "procs: process IDs are 1..4194304"),
    ("cgroup_memory", "NUL", {"path": "oomkit\0matrix"}, "path: contains a NUL byte"),
    ("cgroup_memory", "newline", {"path": "oomkit\nmatrix"}, "path: 'oomkit\\nmatrix' contains a newline"),
    ("cgroup_memory", "unicode", {"path": "oomkit\u2028matrix"}, "Unicode line separator"),
    ("cgroup_memory", "traversal", {"path": "oomkit/../../../etc"}, "contains '..'"),
    ("cgroup_memory", "traversal", {"path": "/etc/passwd"}, "is absolute and outside the memory hierarchy"),
    ("cgroup_memory", "init", {"path": "oomkit-matrix", "procs": [1]}, "procs: PID 1 (init) cannot be moved"),
    # --- oom_score_adj -----------------------------------------------------------------------------
    ("oom_score_adj", "range", {"pid": 1, "value": 1001}, "value 1001 is out of range: oom_score_adj takes -1000..1000"),
    ("oom_score_adj", "type", {"pid": 1, "value": "high"}, "value"),
    ("oom_score_adj", "bounds", {"pids": [2 ** 40], "value": 0}, "process IDs must be integers in 1..4194304"),
    ("oom_score_adj", "NUL", {"name": "ss\0hd", "value": 0}, "name: contains a NUL byte"),
    ("oom_score_adj", "NUL", {"pidfile": "/run/a\0b.pid", "value": 0}, "pidfile: contains a NUL byte"),
    ("oom_score_adj", "newline", {"pattern": "sshd\nx", "value": 0}, "pattern: 'sshd\\nx' contains a newline"),
    ("oom_score_adj", "unicode", {"unit": "ssh\u2029.service", "value": 0}, "unit: "),
    ("oom_score_adj", "traversal", {"pidfile": "../../run/sshd.pid", "value": 0}, "must be an absolute path"),
    ("oom_score_adj", "symlinks", {"pidfile": T + "/to-shadow", "value": 0}, "is a symbolic link; pidfiles are read without following links"),
    ("oom_score_adj", "symlinks", {"pidfile": T + "/to-zero", "value": 0}, "is a symbolic link"),
    ("oom_score_adj", "FIFOs", {"pidfile": T + "/fifo", "value": 0}, "not a regular file (a FIFO)"),
    # --- systemd_oom (values are checked before systemctl is asked anything) -------------------------
    ("systemd_oom", "range", {"name": "app.service", "oom_score_adjust": 1001}, "oom_score_adjust: 1001 is out of range -1000..1000"),
    ("systemd_oom", "type", {"name": "app.service", "oom_policy": "explode"}, "value of oom_policy must be one of: continue, stop, kill"),
    ("systemd_oom", "bounds", {"name": "app.service", "memory_max": "9" * 5000}, "memory_max: '9999"),
    ("systemd_oom", "bounds", {"name": "app.service", "managed_oom_memory_pressure_duration": "9" * 400 + "s"},
     "managed_oom_memory_pressure_duration: "),
    ("systemd_oom", "newline", {"name": "app.service", "memory_max": "1G\nExecStartPre=/bin/sh"}, "memory_max: "),
    ("systemd_oom", "NUL", {"name": "app\0x.service", "memory_max": "1G"}, "is not a valid systemd unit name"),
    ("systemd_oom", "unicode", {"name": "\u00e4pp.service", "memory_max": "1G"}, "is not a valid systemd unit name"),
    ("systemd_oom", "traversal", {"name": "app.service", "memory_max": "1G", "dropin_name": "../../x.conf"},
     "dropin_name '../../x.conf' must be a plain file name"),
    ("systemd_oom", "traversal", {"name": "../app.service", "memory_max": "1G"}, "is not a valid systemd unit name"),
    # --- oom_facts ---------------------------------------------------------------------------------
    ("oom_facts", "range", {"max_events": -1}, "max_events: -1 is out of range (allowed: 0..100000)"),
    ("oom_facts", "range", {"workers": 65}, "workers: 65 is out of range (allowed: 0..64)"),
    ("oom_facts", "type", {"priority": "idle"}, "value of priority must be one of: low, normal"),
    ("oom_facts", "type", {"since": "banana"}, "cannot read time 'banana'"),
    ("oom_facts", "bounds", {"since": "9" * 400 + "d"}, "since: 401 bytes long; at most 64"),
    ("oom_facts", "bounds", {"since": "9" * 40}, "since: a number of 40 digits is out of range"),
    ("oom_facts", "NUL", {"sources": ["files"], "paths": ["/var/log/a\0b"]}, "paths: contains a NUL byte"),
    ("oom_facts", "NUL", {"state_file": T + "/a\0b"}, "state_file: contains a NUL byte"),
    ("oom_facts", "newline", {"until": "7d\n"}, "until: '7d\\n' contains a newline"),
    ("oom_facts", "symlinks", {"sources": ["files"], "paths": [T + "/none"], "state_file": T + "/to-zero"},
     "state file " + T + "/to-zero is a symbolic link"),
    ("oom_facts", "FIFOs", {"sources": ["files"], "paths": [T + "/none"], "state_file": T + "/fifo"}, "not a regular file (a FIFO)"),
]


def _fill(value, tmp):
    if isinstance(value, str):
        return value.replace(T, str(tmp))
    if isinstance(value, list):
        return [_fill(v, tmp) for v in value]
    if isinstance(value, dict):
        return dict((_fill(k, tmp), _fill(v, tmp)) for k, v in value.items())
    return value


@pytest.mark.parametrize("module, category, args, expected", CASES,
                         ids=["%s-%s-%d" % (c[0], c[1], i) for i, c in enumerate(CASES)])
def test_bad_input_fails_naming_the_option_and_changes_nothing(tmp_path, module, category, args, expected):
    if module == "cgroup_memory" and not HAS_V1:
        pytest.skip("needs this machine's v1 memory controller")
    scratch_files(tmp_path)
    args = _fill(args, tmp_path)
    expected = _fill(expected, tmp_path)
    if module == "sysctl":
        args.setdefault("sysctl_file", str(tmp_path / "90-oomkit-oom.conf"))
    before = snapshot(tmp_path)
    outcome = run_main(MODULES[module], args)
    assert outcome.failed, outcome.result
    message = outcome.result["msg"]
    assert expected in message, message
    assert not [raw for raw in RAW_PYTHON if raw in message], message
    assert snapshot(tmp_path) == before
    assert not os.path.exists(V1 + "/oomkit-matrix")


# --- faults ----------------------------------------------------------------------------------------

@contextlib.contextmanager
def tmpfs(path, size="64k", populate=None, read_only=False):
    """A real tmpfs mounted at ``path`` (root only), unmounted afterwards."""
    path.mkdir(exist_ok=True)
    try:
        subprocess.check_call(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % size, "tmpfs", str(path)])
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("cannot mount a tmpfs here")
    try:
        if populate:
            populate(path)
        if read_only:
            subprocess.check_call(["mount", "-o", "remount,ro", str(path)])
        yield path
    finally:
        subprocess.call(["umount", str(path)])


def _proc_sys_tree(root):
    for key, value in (("vm/swappiness", "60"), ("vm/panic_on_oom", "0"), ("kernel/osrelease", "6.1.0")):
        (root / "proc/sys" / key).parent.mkdir(parents=True, exist_ok=True)
        (root / "proc/sys" / key).write_text(value + "\n")
    (root / "etc/sysctl.d").mkdir(parents=True)


@pytest.mark.skipif(not IS_ROOT, reason="mounting needs root")
def test_read_only_proc_sys_is_a_clear_error_and_writes_nothing(tmp_path):
    with tmpfs(tmp_path / "host", populate=_proc_sys_tree, read_only=True) as root:
        before = snapshot(root)
        run = SysctlRun(HostFS(str(root)), settings={"vm.swappiness": 10}, path="/etc/sysctl.d/90-oomkit-oom.conf",
                        persist=False).plan()
        with pytest.raises(ApplyError) as err:
            run.commit()
        assert "/proc/sys is read-only here" in str(err.value) and "use runtime: false" in str(err.value)
        assert snapshot(root) == before


@pytest.mark.skipif(not IS_ROOT, reason="mounting needs root")
def test_full_disk_keeps_the_old_file(tmp_path):
    def populate(root):
        _proc_sys_tree(root)
        (root / "etc/sysctl.d/90-oomkit-oom.conf").write_text("# ours\nvm.swappiness = 60\n")
        with open(str(root / "filler"), "wb") as handle:
            try:
                handle.write(b"\0" * (64 * 1024))
            except OSError:
                pass  # ENOSPC: the disk is full, as wanted
    with tmpfs(tmp_path / "host", populate=populate) as root:
        run = SysctlRun(HostFS(str(root)), settings={"vm.swappiness": 10, "vm.panic_on_oom": 0},
                        path="/etc/sysctl.d/90-oomkit-oom.conf", runtime=True).plan()
        with pytest.raises(ApplyError) as err:
            run.commit()
        assert "ENOSPC" in str(err.value) and "rolled back" in str(err.value)
        assert (root / "etc/sysctl.d/90-oomkit-oom.conf").read_text() == "# ours\nvm.swappiness = 60\n"
        assert (root / "proc/sys/vm/swappiness").read_text().strip() == "60"  # the live write was undone
        assert os.listdir(str(root / "etc/sysctl.d")) == ["90-oomkit-oom.conf"]


_WRITER = r"""
import sys
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS
fs = HostFS(sys.argv[1])
texts = ["# A\n" + "vm.swappiness = 10\n" * 40000, "# B\n" + "vm.swappiness = 20\n" * 40000]
print("ready", flush=True)
i = 0
while True:
    fs.replace_file("/etc/sysctl.d/90-oomkit-oom.conf", texts[i % 2])
    i += 1
"""


def test_kill_9_in_the_middle_of_a_write_leaves_old_or_new_never_half(tmp_path):
    (tmp_path / "etc/sysctl.d").mkdir(parents=True)
    path = tmp_path / "etc/sysctl.d/90-oomkit-oom.conf"
    whole = set(["# A\n" + "vm.swappiness = 10\n" * 40000, "# B\n" + "vm.swappiness = 20\n" * 40000])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    for attempt in range(8):
        child = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], env=env, stdout=subprocess.PIPE)
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(0.05 + 0.03 * attempt)
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        if path.exists():
            assert path.read_text() in whole
    # a killed writer may leave its temporary file (a dot file, never read at boot: not *.conf)
    assert all(n == "90-oomkit-oom.conf" or (n.startswith(".90-oomkit-oom.conf.") and not n.endswith(".conf"))
               for n in os.listdir(str(tmp_path / "etc/sysctl.d")))


def test_missing_memory_controller_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "proc/self").mkdir(parents=True)
    (tmp_path / "proc/self/mountinfo").write_text(
        "22 1 0:21 / /proc rw - proc proc rw\n23 1 0:22 / /sys rw - sysfs sysfs rw\n")
    (tmp_path / "proc/cgroups").write_text("#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t1\t1\n")
    (tmp_path / "sys/fs/cgroup").mkdir(parents=True)
    monkeypatch.setattr(cgroup_memory, "HostFS", lambda root="/": HostFS(str(tmp_path)))
    outcome = run_main(cgroup_memory.main, {"path": "oomkit-matrix", "max": "64M"})
    assert outcome.failed and "no cgroup file system is mounted" in outcome.result["msg"]
    assert not [raw for raw in RAW_PYTHON if raw in outcome.result["msg"]]
    assert os.listdir(str(tmp_path / "sys/fs/cgroup")) == []


def test_vanished_pid_is_not_a_failure(tmp_path):
    child = subprocess.Popen(["true"])
    child.wait()  # reaped: the PID is gone
    outcome = run_main(oom_score_adj.main, {"pid": child.pid, "value": 100, "missing": "ok"})
    assert not outcome.failed and outcome.result["changed"] is False and outcome.result["processes"] == []
    outcome = run_main(oom_score_adj.main, {"pid": child.pid, "value": 100})
    assert outcome.failed and "no running process matched" in outcome.result["msg"]
    if HAS_V1:
        outcome = run_main(cgroup_memory.main, {"path": "oomkit-matrix", "procs": [child.pid]}, check_mode=True)
        assert outcome.failed and "procs: no such process: %d" % child.pid in outcome.result["msg"]


_HOLDER = r"""
import sys, time
block = bytearray(int(sys.argv[1]) * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
print("ready", flush=True)
time.sleep(300)
"""


@pytest.mark.skipif(not (HAS_V1 and IS_ROOT), reason="needs root and this machine's v1 memory controller")
def test_ebusy_from_the_real_kernel_rolls_back(tmp_path):
    name = "oomkit-matrix-ebusy-%d" % os.getpid()
    path = os.path.join(V1, name)
    holder = None
    try:
        outcome = run_main(cgroup_memory.main, {"path": name, "max": "256M"})
        assert not outcome.failed, outcome.result
        holder = subprocess.Popen([sys.executable, "-c", _HOLDER, "48"], stdout=subprocess.PIPE)
        with open(os.path.join(path, "cgroup.procs"), "w") as handle:
            handle.write(str(holder.pid))
        # memory is charged to the cgroup the page is touched in: touch it after the move
        holder.stdout.readline()
        os.kill(holder.pid, signal.SIGSTOP)
        os.kill(holder.pid, signal.SIGCONT)
        with open(os.path.join(path, "memory.limit_in_bytes")) as handle:
            limit_before = handle.read().strip()
        outcome = run_main(cgroup_memory.main, {"path": name, "max": "4M", "swappiness": 0})
        assert outcome.failed
        message = outcome.result["msg"]
        assert "EBUSY" in message or "below" in message, message
        assert not [raw for raw in RAW_PYTHON if raw in message]
        with open(os.path.join(path, "memory.limit_in_bytes")) as handle:
            assert handle.read().strip() == limit_before
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
        if os.path.isdir(path):
            os.rmdir(path)


def test_hostfs_errors_never_quote_content(tmp_path):
    (tmp_path / "secret").write_text("TOP-SECRET\n")
    os.mkfifo(str(tmp_path / "f"))
    fs = HostFS(str(tmp_path))
    with pytest.raises(HostError) as err:
        fs.read_config("/f")
    assert "TOP" not in str(err.value)
