# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each fact has one home; the static files that must repeat it (YAML, JSON, docs) are checked here
against that home. docs/architecture.md lists the homes."""

from __future__ import annotations

import json
import os
import re

import yaml

from ansible_collections.oomkit.linux.plugins.module_utils import host_info, oom_sources, processes, sysctl, systemd
from ansible_collections.oomkit.linux.plugins.modules import oom_score_adj
from ansible_collections.oomkit.linux.plugins.plugin_utils import hardening_plan, oom_report

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")


def _text(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return handle.read()


def _yaml(*parts):
    return yaml.safe_load(_text(*parts))


# --- severities: oom_report.SEVERITIES -------------------------------------------------------------

def test_severities():
    home = list(oom_report.SEVERITIES)
    options = _yaml("roles", "diagnosis", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert options["diagnosis_min_severity"]["choices"] == home
    assert options["diagnosis_fail_on_severity"]["choices"] == ["none"] + home
    assert _yaml("roles", "diagnosis", "vars", "main.yml")["__diagnosis_severities"] == home
    schema = json.loads(_text("roles", "diagnosis", "files", "report.schema.json"))
    enums = re.findall(r'"severity": \{"enum": (\[[^]]*\])\}', json.dumps(schema))
    assert enums and all(json.loads(e) == home for e in enums)
    surveys = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", _text("docs", "awx.md"), re.S)]
    (diagnosis,) = [s for s in surveys if s["name"] == "OOM diagnosis"]
    questions = dict((q["variable"], q) for q in diagnosis["spec"])
    assert questions["diagnosis_min_severity"]["choices"] == home
    assert questions["diagnosis_fail_on_severity"]["choices"] == ["none"] + home


# --- process selector keys: processes.SELECTOR_ARGUMENT_SPEC ----------------------------------------

def test_selector_keys():
    home = [k for k in processes.SELECTOR_ARGUMENT_SPEC if k != "include_children"]
    assert list(processes.SELECTOR_KEYS) == home
    assert oom_score_adj.SELECTORS == home
    assert list(hardening_plan.SELECTOR_KEYS) == home
    tasks = _yaml("roles", "hardening", "tasks", "main.yml")
    (task,) = [t for t in tasks if "oomkit.linux.oom_score_adj" in t]
    args = task["oomkit.linux.oom_score_adj"]
    assert sorted(set(args) - set(("value", "missing"))) == sorted(processes.SELECTOR_ARGUMENT_SPEC)
    described = " ".join(_yaml("roles", "hardening", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
                         ["hardening_expendable_processes"]["description"])
    assert re.findall(r"C\(([a-z_]+)\)", described)[:len(home)] == home
    defaults = _text("roles", "hardening", "defaults", "main.yml")
    comment = re.search(r"^# Keys: ([a-z_, ]+) \(all given must match\)", defaults, re.M).group(1)
    assert comment.split(", ") == home


# --- the OOM sysctls: sysctl.OOM_KNOBS ----------------------------------------------------------------

def test_oom_sysctls():
    assert host_info.BASE_SYSCTLS == tuple(k.name for k in sysctl.OOM_KNOBS if k.posture == "oom")
    assert not hasattr(oom_sources, "SYSCTLS")
    assert list(sysctl.POSTURE_SYSCTLS) == [k.name for k in sysctl.OOM_KNOBS if k.posture]
    assert all(name.startswith("vm.") for name in sysctl.POSTURE_SYSCTLS)
    assert host_info.QOS_SYSCTL == hardening_plan.QOS_SYSCTL == sysctl.QOS_SYSCTL and sysctl.QOS_SYSCTL in sysctl.KNOBS
    baseline = _yaml("roles", "hardening", "defaults", "main.yml")["hardening_sysctl_baseline"]
    assert set(baseline) <= set(sysctl.OOM_POSTURE_SYSCTLS)


# --- the oom_score_adj range: processes.OOM_SCORE_ADJ_MIN/MAX ------------------------------------------

def test_oom_score_adj_range():
    assert (processes.OOM_SCORE_ADJ_MIN, processes.OOM_SCORE_ADJ_MAX) == (-1000, 1000)  # include/uapi/linux/oom.h
    setting = systemd.SETTINGS_BY_OPTION["oom_score_adjust"]
    assert (setting.low, setting.high) == (processes.OOM_SCORE_ADJ_MIN, processes.OOM_SCORE_ADJ_MAX)
    literal = re.compile(r"-1000\s*(,|<=)|<=\s*1000\b|low=-1000|high=1000|-1000\.\.1000\"")
    for path in (("plugins", "plugin_utils", "hardening_plan.py"), ("plugins", "modules", "oom_score_adj.py"),
                 ("plugins", "module_utils", "systemd.py"), ("plugins", "module_utils", "processes.py")):
        code = [line for line in _text(*path).splitlines() if not line.lstrip().startswith("#")]
        assert not [line for line in code if literal.search(line)], path


# --- the protected services' default score: the role's argument spec -----------------------------------

def test_the_protected_default_lives_in_the_spec():
    spec = _yaml("roles", "hardening", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert _yaml("roles", "hardening", "defaults", "main.yml")["hardening_protect_oom_score_adjust"] \
        == spec["hardening_protect_oom_score_adjust"]["default"]
    assert "-900" not in _text("plugins", "plugin_utils", "hardening_plan.py")


# --- the comm length: processes.COMM_LEN (TASK_COMM_LEN - 1) --------------------------------------------

def test_comm_length():
    assert processes.COMM_LEN == 15  # include/linux/sched.h TASK_COMM_LEN 16, less the NUL
    cuts = re.findall(r"name\[:(\d+)\]", _text("roles", "diagnosis", "vars", "main.yml"))
    assert cuts and all(int(c) == processes.COMM_LEN for c in cuts)
    assert "[:15]" not in _text("plugins", "plugin_utils", "oom_report.py")
