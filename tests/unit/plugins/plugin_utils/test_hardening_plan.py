# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hardening role's controller-side plan: survey coercion, the host query, the plan.

Most cases feed oom_host_info results shaped like the module's (hosts this machine is not: systemd,
containers, openEuler); the last ones run the real module logic on this machine and plan from it.
"""

from __future__ import annotations

import copy
import os
import subprocess

import pytest

from ansible_collections.oomkit.linux.plugins.filter.hardening_plan import hardening_plan as plan_filter
from ansible_collections.oomkit.linux.plugins.module_utils.host_info import gather
from ansible_collections.oomkit.linux.plugins.module_utils.hostfs import HostFS
from ansible_collections.oomkit.linux.plugins.module_utils.processes import default_run_command
from ansible_collections.oomkit.linux.plugins.plugin_utils import hardening_plan as P

DEFAULTS = {
    "sysctl_manage": True,
    "sysctl_baseline": {"vm.panic_on_oom": 0, "vm.oom_kill_allocating_task": 0, "vm.oom_dump_tasks": 1},
    "sysctl_extra": {}, "sysctl_runtime": "auto", "sysctl_persist": True, "sysctl_ignore_missing": False,
    "memcg_qos_enable": None, "systemd": "auto", "protect": True,
    "protected_services": [{"unit": "sshd.service", "process": "sshd"}, {"unit": "ssh.service", "process": "sshd"},
                           {"unit": "systemd-journald.service", "process": "systemd-journald"},
                           {"unit": "rsyslog.service", "process": "rsyslogd"},
                           {"unit": "syslog-ng.service", "process": "syslog-ng"}],
    "protected_services_extra": [], "protect_oom_score_adjust": -900, "expendable_names": [],
    "expendable_processes": [], "expendable_score": 500, "unit_limits": [], "cgroups": [],
}


def config(**overrides):
    cfg = copy.deepcopy(DEFAULTS)
    cfg.update(overrides)
    return cfg


def host_info(cfg, running=None, systemd=False, units=None, cap=False, proc_sys=True, memcg=True, sysctls=None,
              container=None, qos_level=False):
    """An oom_host_info result for the query of ``cfg``; ``running`` maps a selection key to its processes."""
    query = P.host_query(cfg)
    assert not query["failed"], query
    present = {"vm.panic_on_oom": "0", "vm.oom_kill_allocating_task": "0", "vm.oom_dump_tasks": "0",
               "vm.overcommit_memory": "0", "kernel.panic": "0", "vm.swappiness": "60"}
    present.update(sysctls or {})
    running = running or {}
    return {
        "changed": False,
        "container": {"in_container": bool(container), "runtime": container,
                      "evidence": [{"source": "/proc/1/environ", "found": "container=%s" % container, "conclusive": True}]
                      if container else []},
        "cap_sys_resource": cap,
        "proc_sys": {"writable": proc_sys,
                     "reason": None if proc_sys else "/proc/sys is mounted read-only here (an unprivileged container)"},
        "cgroup": {"version": "v2", "memory_version": "v2", "memory_mount": "/sys/fs/cgroup", "memory_writable": memcg,
                   "reason": None if memcg else "the memory cgroup hierarchy /sys/fs/cgroup is mounted read-only here"},
        "memcg_qos": {"sysctl": "vm.memcg_qos_enable" in present, "qos_level": qos_level},
        "systemd": {"running": systemd, "version": 252 if systemd else None, "systemctl": systemd},
        "units": dict((u, dict({"present": False}, **(units or {}).get(u, {}))) for u in query["units"]),
        "processes": [{"selector": s, "processes": running.get(P._key(s), [])} for s in query["processes"]],
        "sysctls": dict((n, {"present": n in present, "value": present.get(n)}) for n in query["sysctls"]),
    }


def proc(pid, comm, score):
    return {"pid": pid, "ppid": 1, "comm": comm, "oom_score_adj": score}


def key(**selector):
    return P._key(selector)


# --- the query -----------------------------------------------------------------------------------------

def test_query_of_the_defaults():
    query = P.host_query(config())
    assert query["failed"] is False
    assert query["units"] == ["sshd.service", "ssh.service", "systemd-journald.service", "rsyslog.service",
                              "syslog-ng.service"]
    # each protected process name once, then the program-name pattern of each name of the -900 group
    assert query["processes"][:4] == [{"name": "sshd"}, {"name": "systemd-journald"}, {"name": "rsyslogd"},
                                      {"name": "syslog-ng"}]
    assert query["processes"][4:] == [{"pattern": P.name_pattern([n])}
                                      for n in ("rsyslogd", "sshd", "syslog-ng", "systemd-journald")]
    assert query["sysctls"] == ["vm.memcg_qos_enable", "vm.oom_dump_tasks", "vm.oom_kill_allocating_task",
                                "vm.panic_on_oom"]


def test_query_from_survey_strings():
    query = P.host_query(config(
        protected_services="node_exporter,zabbix-agent2.service", protect_oom_score_adjust="-500",
        expendable_names="batch-worker", expendable_score="700", sysctl_extra="vm/swappiness=10,kernel.panic=5",
        # a list of mappings: ansible-core's own check of the argument spec refuses a JSON string here
        expendable_processes=[{"pattern": "celery worker"}, {"cgroup": "/batch"}, {"pid": "42", "value": "900"}],
        unit_limits=[{"unit": "batch", "memory_max": "2G"}]))
    assert query["failed"] is False
    assert query["units"] == ["node_exporter.service", "zabbix-agent2.service", "batch.service"]
    # a cgroup selection cannot be answered by the query: the module selects then
    assert {"cgroup": "/batch"} not in query["processes"]
    assert {"pattern": "celery worker"} in query["processes"] and {"pid": "42"} in query["processes"]
    assert "vm.swappiness" in query["sysctls"] and "kernel.panic" in query["sysctls"]


@pytest.mark.parametrize("overrides, message", [
    ({"expendable_score": 2000}, "hardening_expendable_score must be between 1 and 1000, not 2000"),
    ({"expendable_score": True}, "hardening_expendable_score must be an integer"),
    ({"sysctl_extra": "vm.swappiness"}, "hardening_sysctl_extra: 'vm.swappiness' is not key=value"),
    ({"sysctl_extra": {"vm..x": 1}}, "hardening_sysctl_extra: 'vm..x' is not a valid sysctl name"),
    ({"sysctl_runtime": "sometimes"}, "hardening_sysctl_runtime must be auto, true or false"),
    ({"protect": "maybe"}, "hardening_protect must be true or false"),
    ({"protected_services_extra": ["backup.timer"]},
     "hardening_protected_services_extra #1: backup.timer takes no OOM or memory settings"),
    ({"protected_services_extra": ["bad name!"]}, "hardening_protected_services_extra #1: 'bad name!.service' is not a valid"),
    ({"protected_services_extra": [{"unit": "x", "colour": 1}]}, "#1: unknown key(s) colour"),
    ({"protected_services_extra": [{"oom_score_adjust": 5}]}, "hardening_protected_services_extra #1 needs a unit or a process"),
    ({"unit_limits": [{"memory_max": "1G"}]}, "hardening_unit_limits #1 needs a unit"),
    ({"unit_limits": [{"unit": "a", "memory_maximum": "1G"}]}, "hardening_unit_limits #1: unknown key(s) memory_maximum"),
    ({"unit_limits": [{"unit": "a", "oom_score_adjust": "-2000"}]}, "hardening_unit_limits #1 oom_score_adjust must be between"),
    ({"cgroups": [{"path": "x", "maximum": "1G"}]}, "hardening_cgroups #1: unknown key(s) maximum"),
    ({"cgroups": [{"max": "1G"}]}, "hardening_cgroups #1 needs a path"),
    ({"cgroups": ["x"]}, "hardening_cgroups #1 must be a mapping"),
    ({"expendable_processes": [{"value": 5}]}, "hardening_expendable_processes #1 selects nothing"),
    ({"expendable_processes": [{"pattern": "(["}]}, "pattern '([' is not a valid regular expression"),
    ({"expendable_processes": [{"name": "x", "colour": 1}]}, "hardening_expendable_processes #1: unknown key(s) colour"),
    # as ansible-core's check of the argument spec reads it: a list of one string, not a mapping
    ({"expendable_processes": "[not json"}, "hardening_expendable_processes #1 must be a mapping"),
    ({"memcg_qos_enable": "3"}, "hardening_memcg_qos_enable must be between 0 and 2"),
])
def test_bad_input_fails_in_the_query(overrides, message):
    query = P.host_query(config(**overrides))
    assert query["failed"] is True
    assert message in query["msg"]


# --- the plan ----------------------------------------------------------------------------------------

def test_host_without_systemd_or_capability():
    """This test bed: no systemd, no CAP_SYS_RESOURCE; a protected guard, expendable batch processes."""
    cfg = config(protected_services=[{"unit": "guard.service", "process": "guard"}], expendable_names=["batch", "none"],
                 expendable_score=600, cgroups=[{"path": "oomkit/batch", "max": "64M", "qos_level": -1, "swap_max": None}],
                 memcg_qos_enable=1, sysctl_extra={"kernel.panic": "0"})
    info = host_info(cfg, running={key(name="guard"): [proc(10, "guard", 0)], key(name="batch"): [proc(11, "batch", 0)]})
    result = P.plan(cfg, info)
    assert result["failed"] is False
    assert result["sysctl"] == {"settings": {"vm.panic_on_oom": "0", "vm.oom_kill_allocating_task": "0",
                                             "vm.oom_dump_tasks": "1", "kernel.panic": "0"},
                                "runtime": True, "persist": True}
    assert result["units"] == []
    assert result["processes"] == [{"name": "batch", "value": 600, "role": "expendable"}]
    assert result["processes_ok"] == [{"name": "none", "value": 600, "role": "expendable", "pids": [],
                                       "reason": "no process matches"}]
    assert result["cgroups"] == [{"path": "oomkit/batch", "max": "64M", "qos_level": -1}]
    skipped = dict((s["item"], s["reason"]) for s in result["skipped"])
    assert "systemd is not the service manager" in skipped["OOMScoreAdjust= drop-ins of the protected services"]
    assert "CAP_SYS_RESOURCE" in skipped["live oom_score_adj -900 of guard (pid 10)"]
    assert "openEuler" in skipped["sysctl vm.memcg_qos_enable"]
    assert "no memory.qos_level" in skipped["memory.qos_level"]
    host = result["host"]
    assert host["systemd"] == {"running": False, "version": None, "managed": False}
    assert host["cap_sys_resource"] is False and host["container"] is None
    assert host["sysctls"]["vm.memcg_qos_enable"] is None and host["sysctls"]["kernel.panic"] == "0"


def test_already_right_processes_cost_no_call():
    cfg = config(protect=False, expendable_names="batch", expendable_score="600")
    info = host_info(cfg, running={key(name="batch"): [proc(11, "batch", 600), proc(12, "batch", 600)]})
    result = P.plan(cfg, info)
    assert result["processes"] == []
    assert result["processes_ok"][0]["reason"] == "every selected process has 600 already"
    assert result["processes_ok"][0]["pids"] == [11, 12]


def test_protected_processes_with_the_capability_get_a_live_call():
    cfg = config(protected_services=[{"unit": "guard.service", "process": "guard"}])
    info = host_info(cfg, cap=True, running={key(name="guard"): [proc(10, "guard", 0)]})
    result = P.plan(cfg, info)
    assert result["processes"] == [{"name": "guard", "value": -900, "role": "protected"}]


def test_systemd_host_merges_protected_units_and_limits():
    cfg = config(unit_limits=[{"unit": "sshd", "memory_max": "1G", "oom_policy": "continue"},
                              {"unit": "batch.service", "memory_max": "2G", "oom_score_adjust": "800",
                               "memory_accounting": "yes"},
                              {"unit": "absent.service", "memory_max": "1G"}])
    units = {"sshd.service": {"present": True, "id": "ssh.service", "active_state": "active", "main_pid": 612},
             "ssh.service": {"present": True, "id": "ssh.service", "active_state": "active", "main_pid": 612},
             "systemd-journald.service": {"present": True, "id": "systemd-journald.service", "main_pid": 80},
             "batch.service": {"present": True, "id": "batch.service", "main_pid": 0}}
    result = P.plan(cfg, host_info(cfg, systemd=True, units=units, cap=False))
    assert result["units"] == [
        {"name": "ssh.service", "live": False, "oom_score_adjust": -900, "memory_max": "1G", "oom_policy": "continue"},
        {"name": "systemd-journald.service", "live": False, "oom_score_adjust": -900},
        {"name": "batch.service", "live": True, "memory_max": "2G", "oom_score_adjust": 800, "memory_accounting": True},
    ]
    assert result["processes"] == []
    skipped = [s["item"] for s in result["skipped"]]
    assert skipped == ["live oom_score_adj -900 of ssh.service", "live oom_score_adj -900 of systemd-journald.service",
                       "settings of absent.service"]
    assert result["host"]["units"]["sshd.service"] == {"id": "ssh.service", "active_state": "active", "main_pid": 612}
    assert result["host"]["systemd"]["managed"] is True


def test_image_build_without_running_systemd():
    cfg = config(systemd="true", sysctl_manage=False,
                 protected_services=[{"unit": "guard.service", "process": "guard"}, {"unit": "absent.service"}])
    units = {"guard.service": {"present": True, "id": "guard.service", "main_pid": 0}}
    result = P.plan(cfg, host_info(cfg, systemd=False, units=units, cap=False))
    assert result["sysctl"] is None
    assert [u["name"] for u in result["units"]] == ["guard.service"]
    assert result["host"]["systemd"] == {"running": False, "version": None, "managed": True}
    assert result["processes"] == []


def test_expendable_names_with_one_value_share_one_run_when_the_pattern_selects_the_same():
    cfg = config(protect=False, expendable_names=["worker", "reporter"])
    running = {key(name="worker"): [proc(20, "worker", 0)], key(name="reporter"): [proc(21, "reporter", 0)],
               key(pattern=P.name_pattern(["worker"])): [proc(20, "worker", 0)],
               key(pattern=P.name_pattern(["reporter"])): [proc(21, "reporter", 0)]}
    result = P.plan(cfg, host_info(cfg, running=running))
    assert result["processes"] == [{"pattern": P.name_pattern(["reporter", "worker"]), "value": 500,
                                    "role": "expendable", "names": ["reporter", "worker"]}]


def test_names_stay_separate_runs_when_the_pattern_would_select_something_else():
    cfg = config(protect=False, expendable_names=["worker", "reporter"])
    # "worker" rewrites its argv[0]: the program-name pattern does not find it
    running = {key(name="worker"): [proc(20, "worker", 0)], key(name="reporter"): [proc(21, "reporter", 0)],
               key(pattern=P.name_pattern(["reporter"])): [proc(21, "reporter", 0)]}
    result = P.plan(cfg, host_info(cfg, running=running))
    assert result["processes"] == [{"name": "worker", "value": 500, "role": "expendable"},
                                   {"name": "reporter", "value": 500, "role": "expendable"}]


def test_only_the_names_that_need_a_change_are_merged():
    cfg = config(protect=False, expendable_names=["a", "b", "c"])
    running = {key(name="a"): [proc(1, "a", 0)], key(name="b"): [proc(2, "b", 0)], key(name="c"): [proc(3, "c", 500)],
               key(pattern=P.name_pattern(["a"])): [proc(1, "a", 0)], key(pattern=P.name_pattern(["b"])): [proc(2, "b", 0)],
               key(pattern=P.name_pattern(["c"])): [proc(3, "c", 500)]}
    result = P.plan(cfg, host_info(cfg, running=running))
    assert [c.get("names") for c in result["processes"]] == [["a", "b"]]
    assert [c["name"] for c in result["processes_ok"]] == ["c"]


def test_selections_the_query_cannot_answer_always_get_a_call():
    cfg = config(protect=False, expendable_processes=[{"cgroup": "/batch"}, {"name": "x", "include_children": "yes"}])
    result = P.plan(cfg, host_info(cfg))
    assert result["processes"] == [{"cgroup": "/batch", "value": 500, "role": "expendable"},
                                   {"name": "x", "include_children": True, "value": 500, "role": "expendable"}]


def test_read_only_proc_sys_persists_only():
    cfg = config(protect=False)
    result = P.plan(cfg, host_info(cfg, proc_sys=False, memcg=False))
    assert result["sysctl"]["runtime"] is False and result["sysctl"]["persist"] is True
    reasons = [s["reason"] for s in result["skipped"]]
    assert any("read-only" in r and r.endswith("; persisted only") for r in reasons)


def test_read_only_cgroups_skip_the_entries():
    cfg = config(protect=False, cgroups=[{"path": "batch", "max": "1G"}])
    result = P.plan(cfg, host_info(cfg, memcg=False))
    assert result["cgroups"] == []
    assert result["skipped"][-1] == {"item": "cgroup batch",
                                     "reason": "the memory cgroup hierarchy /sys/fs/cgroup is mounted read-only here"}


def test_neither_runtime_nor_persist():
    cfg = config(protect=False, sysctl_runtime="false", sysctl_persist="no")
    result = P.plan(cfg, host_info(cfg))
    assert result["sysctl"] is None
    assert {"item": "sysctls", "reason": "neither runtime nor persist is enabled"} in result["skipped"]


def test_missing_sysctls_fail_or_are_skipped():
    cfg = config(protect=False, sysctl_extra={"vm.no_such_knob": 1}, sysctl_allow_any=True)
    result = P.plan(cfg, host_info(cfg))
    assert result == {"failed": True, "msg": "this kernel has no vm.no_such_knob; remove them or set "
                                             "hardening_sysctl_ignore_missing: true"}
    cfg["sysctl_ignore_missing"] = "true"
    result = P.plan(cfg, host_info(cfg))
    assert "vm.no_such_knob" not in result["sysctl"]["settings"]
    assert {"item": "sysctl vm.no_such_knob", "reason": "this kernel does not have it"} in result["skipped"]


def test_openeuler_memcg_qos_is_set_where_the_kernel_has_it():
    cfg = config(protect=False, memcg_qos_enable="1", cgroups=[{"path": "batch", "qos_level": -1}])
    result = P.plan(cfg, host_info(cfg, sysctls={"vm.memcg_qos_enable": "0"}, qos_level=True))
    assert result["sysctl"]["settings"]["vm.memcg_qos_enable"] == "1"
    assert result["skipped"] == []


def test_panic_on_oom_warning_names_the_container():
    cfg = config(protect=False, sysctl_baseline={"vm.panic_on_oom": 2})
    result = P.plan(cfg, host_info(cfg, container="podman"))
    assert result["host"]["container"] == "podman"
    assert result["host"]["container_evidence"][0]["found"] == "container=podman"
    warning = result["skipped"][-1]
    assert warning["item"] == "nothing (warning)" and "HOST's" in warning["reason"]


def test_an_empty_value_drops_a_baseline_key():
    cfg = config(protect=False, sysctl_extra={"vm.oom_dump_tasks": ""})
    assert "vm.oom_dump_tasks" not in P.plan(cfg, host_info(cfg))["sysctl"]["settings"]


def test_a_result_of_another_query_is_refused():
    cfg = config(protect=False, expendable_names=["a"])
    info = host_info(config(protect=False))
    result = P.plan(cfg, info)
    assert result["failed"] and "answers 0 process selection(s), the plan asked 1" in result["msg"]
    assert P.plan(cfg, {"failed": True, "msg": "boom"})["failed"]


def test_the_filter_returns_the_query_or_the_plan():
    cfg = config(protect=False, expendable_names="batch")
    query = plan_filter(cfg)
    assert query["processes"] == [{"name": "batch"}]
    assert plan_filter(cfg, host_info(cfg))["processes_ok"][0]["name"] == "batch"


# --- on this machine: the real module logic, then the plan ----------------------------------------------

def test_plan_from_this_machine():
    """A process of our own, read by host_info.gather as the module does, planned for."""
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        with open("/proc/%d/oom_score_adj" % sleeper.pid, "w") as handle:
            handle.write("5")  # our own child; raising needs no capability
        cfg = config(protected_services=[], expendable_processes=[{"pid": sleeper.pid, "value": 6},
                                                                  {"pid": sleeper.pid, "value": 5}])
        query = plan_filter(cfg)
        args = {"units": query["units"], "processes": query["processes"], "sysctls": query["sysctls"], "cgroups": []}
        info = gather(HostFS("/"), default_run_command, args, exclude_pids=[os.getpid()])
        result = P.plan(cfg, info)
        assert result["failed"] is False, result
        assert result["processes"] == [{"pid": sleeper.pid, "value": 6, "role": "expendable"}]
        assert result["processes_ok"] == [{"pid": sleeper.pid, "value": 5, "role": "expendable", "pids": [sleeper.pid],
                                           "reason": "every selected process has 5 already"}]
        # planning wrote nothing
        assert open("/proc/%d/oom_score_adj" % sleeper.pid).read().strip() == "5"
        assert result["host"]["systemd"]["running"] is os.path.isdir("/run/systemd/system")
        assert result["host"]["sysctls"]["vm.panic_on_oom"] == open("/proc/sys/vm/panic_on_oom").read().strip()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_every_unit_setting_of_systemd_oom_is_accepted_and_passed_on():
    cfg = config(unit_limits=[{"unit": "batch.service", "memory_zswap_writeback": "no",
                               "managed_oom_memory_pressure_duration": "30s"}])
    units = {"batch.service": {"present": True, "id": "batch.service", "main_pid": 0}}
    result = P.plan(cfg, host_info(cfg, systemd=True, units=units, cap=True))
    assert result["failed"] is False, result
    assert result["units"][-1] == {"name": "batch.service", "live": True, "memory_zswap_writeback": "no",
                                   "managed_oom_memory_pressure_duration": "30s"}


@pytest.mark.parametrize("setting, value, message", [
    ("memory_max", "512MB", "hardening_unit_limits #1 memory_max"),
    ("managed_oom_memory_pressure_duration", "soon", "hardening_unit_limits #1 managed_oom_memory_pressure_duration"),
    ("oom_policy", "explode", "hardening_unit_limits #1 oom_policy"),
])
def test_bad_unit_setting_values_fail_on_the_controller(setting, value, message):
    query = P.host_query(config(unit_limits=[{"unit": "batch", setting: value}]))
    assert query["failed"] is True
    assert message in query["msg"]


def test_protected_processes_already_below_the_value_are_raised_without_the_capability():
    """The kernel refuses only writes below a process's floor: raising -950 to -900 needs no capability."""
    cfg = config(protected_services=[{"unit": "guard.service", "process": "guard"}])
    info = host_info(cfg, cap=False, running={key(name="guard"): [proc(10, "guard", -950)]})
    result = P.plan(cfg, info)
    assert result["processes"] == [{"name": "guard", "value": -900, "role": "protected"}]
    assert not [s for s in result["skipped"] if "CAP_SYS_RESOURCE" in s["reason"]]


# --- surveys are not root (issue 13, row 5) -----------------------------------------------------------

@pytest.mark.parametrize("extra", [
    '{"kernel.core_pattern": "|/tmp/x %p"}',          # JSON, as a survey textarea sends it
    "kernel.core_pattern=|/tmp/x",                    # key=value text
    {"kernel.core_pattern": "|/tmp/x %p", "vm.swappiness": 10},
])
def test_a_survey_cannot_set_a_sysctl_outside_the_oom_table(extra):
    query = P.host_query(config(sysctl_extra=extra))
    assert query["failed"]
    assert "hardening_sysctl_extra: kernel.core_pattern is not among the OOM and memory sysctls" in query["msg"]
    assert "hardening_sysctl_allow_any: true set in the play" in query["msg"]


def test_the_baseline_is_held_to_the_same_rule():
    query = P.host_query(config(sysctl_baseline={"kernel.modprobe": "/tmp/x"}))
    assert query["failed"] and "hardening_sysctl_baseline: kernel.modprobe" in query["msg"]


def test_oom_and_memory_keys_need_no_permission():
    query = P.host_query(config(sysctl_extra="vm.swappiness=10,vm.overcommit_memory=2,kernel.panic=10"))
    assert not query["failed"], query


@pytest.mark.parametrize("allow", ["true", "True", "yes", "1", 1])
def test_allow_any_from_a_survey_answer_is_refused(allow):
    query = P.host_query(config(sysctl_extra={"kernel.core_pattern": "core"}, sysctl_allow_any=allow))
    assert query["failed"] and "hardening_sysctl_allow_any must be the boolean true or false" in query["msg"]


def test_allow_any_set_in_the_play_as_a_boolean_lets_other_keys_through():
    cfg = config(sysctl_extra={"kernel.core_pattern": "core"}, sysctl_allow_any=True)
    query = P.host_query(cfg)
    assert not query["failed"], query
    assert "kernel.core_pattern" in query["sysctls"]
