# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the oomkit.linux.hardening role against a fleet of podman containers, side by side
with the playbook a user would write today (bench/fleet/naive.yml, ansible.builtin only).

Starts 2 x N systemd containers (default N=3, --quick 2; image localhost/oomkit-debian-systemd:12
from `make testbed`), N for each playbook, each with the same test services: a guard service to
protect (OOMScoreAdjust=-900, with systemd-journald) and two expendable processes. Then runs, for
each side, a first run (converge) and a second run (nothing to change), alternating the sides, and
prints the wall time of each run, the tasks run per host, the module runs per host, and the ratio.

The containers are privileged (the sysctls are applied live), so vm.* sysctls are the HOST's: the
bench uses the host's current values of vm.panic_on_oom (must be 0), vm.oom_kill_allocating_task
and vm.oom_dump_tasks, so nothing changes on the host, and it writes the saved values back at the
end anyway. Containers are removed at the end, passed or failed. Never asserts a time.

    python3 bench/fleet/bench.py [--quick] [-n N]

With --vm the hosts are QEMU virtual machines of the test bed (tools/testbed/vm.sh, the guest of
`make integration-vm`) reached over SSH with pipelining on, as a real fleet is: N VMs (default 3)
for one side, its first and second run, then N fresh VMs (new overlays) for the other side. The
VMs have their own kernel: nothing of the host is written. Boots are not timed.

    flock /tmp/oomkit-heavy.lock python3 bench/fleet/bench.py --vm [-n N] [--naive-first]

The load of the machine can change between the two sides (they run minutes apart): --naive-first
swaps them, and the load average is printed after each side. See bench/fleet/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
IMAGE = "localhost/oomkit-debian-systemd:12"
PREFIX = "oomkit-bench-fleet-"
KEYS = ("vm.panic_on_oom", "vm.oom_kill_allocating_task", "vm.oom_dump_tasks")
GUARD = "oomkit-guard.service"
EXPENDABLE = ("oomkit-batch-a", "oomkit-batch-b")


def run(argv, check=True, **kwargs):
    return subprocess.run(argv, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kwargs)


def read_sysctl(key):
    with open("/proc/sys/" + key.replace(".", "/")) as handle:
        return handle.read().strip()


def ansible_env(tmp):
    env = dict(os.environ)
    live = os.path.join(tmp, "live")
    os.makedirs(os.path.join(live, "ansible_collections", "oomkit"))
    os.symlink(REPO, os.path.join(live, "ansible_collections", "oomkit", "linux"))
    testbed = os.environ.get("OOMKIT_TESTBED_COLLECTIONS", os.path.join(REPO, ".tmp", "collections"))
    env["ANSIBLE_COLLECTIONS_PATH"] = live + ":" + testbed
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_HOST_KEY_CHECKING"] = "0"
    env["ANSIBLE_GATHERING"] = "explicit"
    env["ANSIBLE_FORKS"] = "20"
    env["ANSIBLE_RETRY_FILES_ENABLED"] = "0"
    env["ANSIBLE_CALLBACK_RESULT_FORMAT"] = "json"
    return env


def start_containers(names):
    for name in names:
        run(["podman", "run", "-d", "--name", name, "--privileged", "--systemd=always", "--cgroupns=private",
             "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096", IMAGE, "/sbin/init"])
    unit = ("[Unit]\nDescription=oomkit bench %s\n[Service]\nExecStart=%s\n")
    script = (
        "set -e; systemctl is-system-running --wait >/dev/null || true;"
        "printf '%s' '" + unit % ("guard", "/bin/sleep infinity") + "' > /etc/systemd/system/" + GUARD + ";"
        + "".join("cp /bin/sleep /usr/local/bin/%s; printf '%%s' '%s' > /etc/systemd/system/%s.service;"
                  % (n, unit % (n, "/usr/local/bin/%s infinity" % n), n) for n in EXPENDABLE)
        + "systemctl daemon-reload; systemctl start " + " ".join([GUARD] + ["%s.service" % n for n in EXPENDABLE])
    )
    for name in names:
        run(["podman", "exec", name, "sh", "-c", script])


VM_TOOL = os.path.join(REPO, "tools", "testbed", "vm.sh")


def start_vms(names):
    """Boot the VMs one after the other (they share the host's cores) and set up the test services."""
    unit = ("[Unit]\nDescription=oomkit bench %s\n[Service]\nExecStart=%s\n")
    script = (
        "set -e;"
        "printf '%s' '" + unit % ("guard", "/bin/sleep infinity") + "' > /etc/systemd/system/" + GUARD + ";"
        + "".join("cp /bin/sleep /usr/local/bin/%s; printf '%%s' '%s' > /etc/systemd/system/%s.service;"
                  % (n, unit % (n, "/usr/local/bin/%s infinity" % n), n) for n in EXPENDABLE)
        + "systemctl daemon-reload; systemctl start " + " ".join([GUARD] + ["%s.service" % n for n in EXPENDABLE])
    )
    hosts = {}
    for name in names:
        run([VM_TOOL, "start", name])
        run([VM_TOOL, "ssh", name, script])
        info = dict(line.split("=", 1) for line in run([VM_TOOL, "info", name]).stdout.splitlines() if "=" in line)
        hosts[name] = {"ansible_host": info["address"], "ansible_port": int(info["port"]), "ansible_user": info["user"],
                       "ansible_ssh_private_key_file": info["identity_file"],
                       "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
                       "ansible_ssh_pipelining": True, "ansible_python_interpreter": "/usr/bin/python3"}
    return hosts


def stop_vms(names):
    run([VM_TOOL, "stop"] + list(names), check=False)


def remove_containers():
    out = run(["podman", "ps", "-a", "--format", "{{.Names}}"], check=False).stdout.split()
    for name in out:
        if name.startswith(PREFIX):
            run(["podman", "rm", "-f", "-t", "0", name], check=False)


def inventory(path, names):
    with open(path, "w") as handle:
        json.dump({"all": {"hosts": dict((n, {"ansible_connection": "containers.podman.podman",
                                              "ansible_python_interpreter": "/usr/bin/python3"}) for n in names)}},
                  handle)


RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.M)
ITEM_LINE = re.compile(r"^(ok|changed): \[([^\]]+)\]", re.M)


def play(env, inv, playbook, varsfile, log):
    start = time.monotonic()
    proc = run([os.path.join(REPO, ".venv", "bin", "ansible-playbook") if os.path.exists(
        os.path.join(REPO, ".venv", "bin", "ansible-playbook")) else "ansible-playbook",
        "-i", inv, playbook, "-e", "@" + varsfile], check=False, env=env, cwd=REPO)
    elapsed = time.monotonic() - start
    with open(log, "a") as handle:
        handle.write(proc.stdout)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-4000:])
        raise SystemExit("%s failed (rc=%s); log in %s" % (playbook, proc.returncode, log))
    recap = dict((m.group(1), dict(ok=int(m.group(2)), changed=int(m.group(3)), failed=int(m.group(5)),
                                   skipped=int(m.group(6)))) for m in RECAP.finditer(proc.stdout))
    return elapsed, recap, proc.stdout


def module_runs_role(stdout, host):
    """hardening_result.module_calls, printed by the harden playbook's summary."""
    match = re.search(r'ok: \[%s\] => \{\s*"msg": "[^"]*module runs: (\d+)' % re.escape(host), stdout)
    return int(match.group(1)) if match else None


def module_runs_naive(stdout, host):
    """Every ok/changed line of the host is one module run (loop items print one line each)."""
    return sum(1 for m in ITEM_LINE.finditer(stdout) if m.group(2) == host)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("-n", type=int, default=None, help="containers per side (default 3)")
    parser.add_argument("--quick", action="store_true", help="2 containers per side")
    parser.add_argument("--vm", action="store_true", help="QEMU VMs over SSH with pipelining instead of containers")
    parser.add_argument("--naive-first", action="store_true",
                        help="with --vm: run the naive side first (the sides run one after the other; swapping "
                             "them shows how much a change of the machine's load between them weighs)")
    args = parser.parse_args()
    n = args.n or (2 if args.quick else 3)
    if args.vm:
        return main_vm(n, ("naive", "role") if args.naive_first else ("role", "naive"))
    if shutil.which("podman") is None or run(["podman", "image", "exists", IMAGE], check=False).returncode != 0:
        print("SKIP: podman or %s missing (run `make testbed`)" % IMAGE)
        return 0
    saved = dict((k, read_sysctl(k)) for k in KEYS)
    if saved["vm.panic_on_oom"] != "0":
        print("SKIP: vm.panic_on_oom is %s on this host; the bench only runs with 0" % saved["vm.panic_on_oom"])
        return 0
    tmp = tempfile.mkdtemp(prefix="oomkit-bench-fleet-")
    log = os.path.join(REPO, "bench", "output", "fleet.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    open(log, "w").close()
    role_hosts = ["%srole-%d" % (PREFIX, i) for i in range(n)]
    naive_hosts = ["%snaive-%d" % (PREFIX, i) for i in range(n)]
    try:
        remove_containers()
        env = ansible_env(tmp)
        print("starting %d + %d containers (%s) ..." % (n, n, IMAGE))
        start_containers(role_hosts + naive_hosts)
        inventory(os.path.join(tmp, "role.json"), role_hosts)
        inventory(os.path.join(tmp, "naive.json"), naive_hosts)
        variables = {
            # the host's current values: privileged containers write the host's vm.* sysctls
            "hardening_sysctl_baseline": saved,
            "hardening_protect_oom_score_adjust": -900,
            "hardening_protected_services_extra": [GUARD],
            "hardening_expendable_names": list(EXPENDABLE),
            "hardening_expendable_score": 500,
            "hardening_sysctl_file": "/etc/sysctl.d/90-oomkit-oom.conf",
            "naive_protected_units": ["systemd-journald.service", GUARD],
            "hardening_become": False,  # root in the containers, no sudo
        }
        varsfile = os.path.join(tmp, "vars.json")
        with open(varsfile, "w") as handle:
            json.dump(variables, handle)
        role_pb = os.path.join(REPO, "playbooks", "harden.yml")
        naive_pb = os.path.join(HERE, "naive.yml")
        results = {}
        for label in ("first", "second"):
            for side, inv, pb in (("role", "role.json", role_pb), ("naive", "naive.json", naive_pb)):
                elapsed, recap, stdout = play(env, os.path.join(tmp, inv), pb, varsfile, log)
                host = (role_hosts if side == "role" else naive_hosts)[0]
                runs = module_runs_role(stdout, host) if side == "role" else module_runs_naive(stdout, host)
                tasks = recap[host]["ok"] + recap[host]["failed"]
                results[(label, side)] = (elapsed, tasks, runs, recap[host]["changed"])
        # the two sides did the same thing: compare the files and live values of one host each
        check = ("cat /etc/sysctl.d/90-oomkit-oom.conf /etc/systemd/system/%s.d/50-oomkit-oom.conf | grep -E '^(vm|OOM)' | sort;"
                 " for n in %s; do cat /proc/$(pgrep -x $n)/oom_score_adj; done" % (GUARD, " ".join(EXPENDABLE)))
        state = [run(["podman", "exec", h, "sh", "-c", check]).stdout for h in (role_hosts[0], naive_hosts[0])]
        print("")
        print("fleet: %d containers per side, systemd 252, privileged, ansible forks 20" % n)
        print("%-8s %-6s %9s %13s %20s %8s" % ("run", "side", "wall (s)", "tasks/host", "module runs/host", "changed"))
        for (label, side), (elapsed, tasks, runs, changed) in sorted(results.items()):
            print("%-8s %-6s %9.1f %13d %20s %8d" % (label, side, elapsed, tasks, runs, changed))
        for label in ("first", "second"):
            ratio = results[(label, "naive")][0] / results[(label, "role")][0]
            print("%s run: naive / role wall-time ratio = %.2fx" % (label, ratio))
        total = sum(results[(l, "naive")][0] for l in ("first", "second")) / sum(
            results[(l, "role")][0] for l in ("first", "second"))
        print("both runs: naive / role wall-time ratio = %.2fx" % total)
        print("same end state on both sides: %s" % ("yes" if state[0] == state[1] else "NO:\n" + "\n---\n".join(state)))
        print("log: %s" % log)
    finally:
        remove_containers()
        # Both playbooks only ever write the values saved above, so the bench itself leaves the host
        # as it found it; a difference now was made by something else running on this machine, and
        # writing over it would undo that: say it instead.
        for key, value in saved.items():
            now = read_sysctl(key)
            if now != value:
                print("note: host %s changed during the bench (%s -> %s) by something else; left as it is"
                      % (key, value, now))
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main_vm(n, order=("role", "naive")):
    """The same comparison over SSH against QEMU VMs: one side at a time on fresh VMs, in ``order``."""
    if shutil.which("qemu-system-x86_64") is None:
        print("SKIP: qemu-system-x86_64 missing (run `make integration-vm` once)")
        return 0
    tmp = tempfile.mkdtemp(prefix="oomkit-bench-fleet-")
    log = os.path.join(REPO, "bench", "output", "fleet-vm.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    open(log, "w").close()
    sides = {"role": ["bench-role-%d" % i for i in range(n)], "naive": ["bench-naive-%d" % i for i in range(n)]}
    variables = {
        "hardening_sysctl_baseline": {"vm.panic_on_oom": "0", "vm.oom_kill_allocating_task": "0",
                                      "vm.oom_dump_tasks": "1"},
        "hardening_protect_oom_score_adjust": -900,
        "hardening_protected_services_extra": [GUARD],
        "hardening_expendable_names": list(EXPENDABLE),
        "hardening_expendable_score": 500,
        "hardening_sysctl_file": "/etc/sysctl.d/90-oomkit-oom.conf",
        # the guest has rsyslog too, which the role protects: the naive side does the same work
        "naive_protected_units": ["systemd-journald.service", "rsyslog.service", GUARD],
        "hardening_become": False,
    }
    check = ("cat /etc/sysctl.d/90-oomkit-oom.conf /etc/systemd/system/%s.d/50-oomkit-oom.conf | grep -E '^(vm|OOM)' | sort;"
             " for n in %s; do cat /proc/$(pgrep -x $n)/oom_score_adj; done" % (GUARD, " ".join(EXPENDABLE)))
    results = {}
    state = []
    try:
        env = ansible_env(tmp)
        env["ANSIBLE_PIPELINING"] = "1"
        env["ANSIBLE_TIMEOUT"] = "60"
        varsfile = os.path.join(tmp, "vars.json")
        with open(varsfile, "w") as handle:
            json.dump(variables, handle)
        playbooks = {"role": os.path.join(REPO, "playbooks", "harden.yml"), "naive": os.path.join(HERE, "naive.yml")}
        for side in order:
            names = sides[side]
            print("booting %d VMs for the %s side ..." % (n, side))
            sys.stdout.flush()
            hosts = start_vms(names)
            inv = os.path.join(tmp, side + ".json")
            with open(inv, "w") as handle:
                json.dump({"all": {"hosts": hosts}}, handle)
            for label in ("first", "second"):
                elapsed, recap, stdout = play(env, inv, playbooks[side], varsfile, log)
                host = names[0]
                runs = module_runs_role(stdout, host) if side == "role" else module_runs_naive(stdout, host)
                results[(label, side)] = (elapsed, recap[host]["ok"] + recap[host]["failed"], runs, recap[host]["changed"])
            state.append(run([VM_TOOL, "ssh", names[0], check]).stdout)
            stop_vms(names)
            print("%s side done; load average %s" % (side, " ".join(open("/proc/loadavg").read().split()[:3])))
            sys.stdout.flush()
        print("")
        print("fleet: %d QEMU VMs per side (TCG), SSH with pipelining, systemd 252, ansible forks 20; %s side first"
              % (n, order[0]))
        print("%-8s %-6s %9s %13s %20s %8s" % ("run", "side", "wall (s)", "tasks/host", "module runs/host", "changed"))
        for (label, side), (elapsed, tasks, runs, changed) in sorted(results.items()):
            print("%-8s %-6s %9.1f %13d %20s %8d" % (label, side, elapsed, tasks, runs, changed))
        for label in ("first", "second"):
            ratio = results[(label, "naive")][0] / results[(label, "role")][0]
            print("%s run: naive / role wall-time ratio = %.2fx" % (label, ratio))
        print("same end state on both sides: %s" % ("yes" if state[0] == state[1] else "NO:\n" + "\n---\n".join(state)))
        print("log: %s" % log)
    finally:
        stop_vms(sides["role"] + sides["naive"])
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
