# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One validation path for role variables: the role's argument spec, applied by role_args the way
ansible-core applies it when the role starts, plus "blank is unset"."""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.oomkit.linux.plugins.plugin_utils import hardening_plan as H
from ansible_collections.oomkit.linux.plugins.plugin_utils import role_args as R

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")
SPEC = R.load_spec("hardening")


def _yaml(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return yaml.safe_load(handle)


ROLES = ("hardening", "diagnosis")
OPTIONS = [(role, name) for role in ROLES for name in sorted(R.load_spec(role))]


def ansible_core_accepts(name, value, role="hardening"):
    """What ansible-core's own check of the spec (validate_argument_spec, when the role starts) says."""
    spec = R.load_spec(role)
    result = ArgumentSpecValidator({name: spec[name]}).validate({name: value}, validate_role_argument_spec=True)
    return not result.error_messages


# Survey-style values for every type of the spec; blank answers come separately.
SAMPLES = ["true", "t", "no", "maybe", "-900", "2000", "1.5", "a,b", "x", "vm.swappiness=10,vm.panic_on_oom=0",
           '{"vm.swappiness": 10}', True, 7, [], ["a"], {"a": 1}, [{"unit": "x"}], ["x", {"unit": "y"}]]


@pytest.mark.parametrize("role, name", OPTIONS)
def test_role_args_agrees_with_ansible_core(role, name):
    spec = R.load_spec(role)
    for value in SAMPLES:
        try:
            R.convert_option(name, spec[name], value)
            ours = True
        except R.RoleArgsError:
            ours = False
        if isinstance(value, bool) and spec[name].get("type") in ("int", "float"):
            assert ours is False  # stricter on purpose: True is not a number
            continue
        core = ansible_core_accepts(name, value, role)
        # what passes here passes ansible-core's check (no spec dump after ours); a typed option refuses
        # exactly what ansible-core refuses; a raw one read as its default's type may refuse more
        assert core or not ours, (name, value)
        if spec[name].get("type") != "raw":
            assert ours is core, (name, value)


@pytest.mark.parametrize("role, name", [(r, n) for r, n in OPTIONS if not R.load_spec(r)[n].get("required")])
def test_a_blank_answer_is_the_default(role, name):
    spec = R.load_spec(role)
    for blank in ("", "  ", None):
        assert R.convert_option(name, spec[name], blank) == spec[name].get("default")


def test_survey_strings_are_converted_by_the_spec():
    values = R.convert("hardening", {"hardening_protect": "t", "hardening_expendable_score": "700",
                                     "hardening_expendable_names": "batch, report-gen,",
                                     "hardening_sysctl_extra": "vm.swappiness=10,vm.min_free_kbytes=131072",
                                     "hardening_set_stats": "false", "hardening_sysctl_baseline": ""})
    assert values["hardening_protect"] is True
    assert values["hardening_expendable_score"] == 700
    assert values["hardening_expendable_names"] == ["batch", " report-gen"]
    assert values["hardening_sysctl_extra"] == {"vm.swappiness": "10", "vm.min_free_kbytes": "131072"}
    assert values["hardening_set_stats"] is False
    assert values["hardening_sysctl_baseline"] == SPEC["hardening_sysctl_baseline"]["default"]
    assert values["hardening_restart"] == "never"


@pytest.mark.parametrize("name, value, message", [
    ("hardening_protect", "maybe", "hardening_protect must be true or false, not 'maybe'"),
    ("hardening_restart", "sometimes", "hardening_restart must be one of never, auto, always, not 'sometimes'"),
    ("hardening_expendable_score", "lots", "hardening_expendable_score must be an integer, not 'lots'"),
    ("hardening_cgroups", ["x"], "hardening_cgroups #1 must be a mapping"),
    ("hardening_sysctl_extra", "vm.swappiness", "hardening_sysctl_extra: 'vm.swappiness' is not key=value pairs"),
    ("hardening_sysctl_extra", ["x"], "hardening_sysctl_extra must be a mapping"),
])
def test_errors_name_the_variable_and_not_the_spec(name, value, message):
    with pytest.raises(R.RoleArgsError) as info:
        R.convert("hardening", {name: value})
    assert message in str(info.value)
    assert "argument_spec" not in str(info.value) and len(str(info.value)) < 300


def test_unknown_variables_are_refused():
    with pytest.raises(R.RoleArgsError, match="hardening_colour: not a variable of the hardening role"):
        R.convert("hardening", {"hardening_colour": 1})


def test_the_role_passes_every_variable_of_the_spec_to_the_plan():
    config = _yaml("roles", "hardening", "vars", "main.yml")["__hardening_config"]
    assert sorted(H.PREFIX + k for k in config) == sorted(SPEC)
    for key, value in config.items():
        assert value == "{{ %s%s }}" % (H.PREFIX, key)


def test_the_defaults_file_holds_the_spec_defaults():
    defaults = _yaml("roles", "hardening", "defaults", "main.yml")
    assert sorted(defaults) == sorted(SPEC)
    for name, option in SPEC.items():
        assert defaults[name] == option.get("default"), name


def _awx_survey(title):
    with open(os.path.join(ROOT, "docs", "awx.md")) as handle:
        text = handle.read()
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        survey = json.loads(block)
        if survey["name"] == title:
            return survey["spec"]
    raise AssertionError("no survey %r in docs/awx.md" % title)


@pytest.mark.parametrize("blank", [False, True])
def test_the_documented_hardening_survey_passes_both_checks(blank):
    """Every answer a string (as AWX and -e send them); optional questions left blank, or their defaults."""
    answers = {}
    for question in _awx_survey("OOM hardening"):
        if question["variable"] not in SPEC:
            continue  # a playbook variable (hardening_hosts)
        value = "" if blank and not question["required"] else str(question["default"])
        answers[question["variable"]] = value
        assert ansible_core_accepts(question["variable"], value), question["variable"]
    query = H.host_query(dict((k[len(H.PREFIX):], v) for k, v in answers.items()))
    assert query["failed"] is False, query


def test_the_diagnosis_role_converts_every_variable_of_its_spec():
    variables = _yaml("roles", "diagnosis", "vars", "main.yml")
    assert sorted(variables["__diagnosis_config"]) == sorted(R.load_spec("diagnosis"))
    for key, value in variables["__diagnosis_config"].items():
        assert value == "{{ %s }}" % key
    assert "oomkit.linux.role_args('diagnosis')" in variables["__diagnosis_args"]
    # no second converter of its own
    text = _text_of("roles", "diagnosis", "vars", "main.yml") + _text_of("roles", "diagnosis", "tasks", "main.yml")
    assert not re.search(r"\| *(bool|int)\b", text)
    assert ".split(',')" not in text


def test_the_filter():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.oomkit.linux.plugins.filter.role_args import FilterModule, role_args

    typed = role_args({"diagnosis_incremental": "t", "diagnosis_sources": "", "diagnosis_max_events": "7"}, "diagnosis")
    assert (typed["diagnosis_incremental"], typed["diagnosis_sources"], typed["diagnosis_max_events"]) == (True, ["auto"], 7)
    with pytest.raises(AnsibleFilterError, match="oomkit.linux.diagnosis: diagnosis_max_events must be an integer"):
        role_args({"diagnosis_max_events": "lots"}, "diagnosis")
    with pytest.raises(AnsibleFilterError, match="no argument spec for the role 'nope'"):
        role_args({}, "nope")
    assert FilterModule().filters()["role_args"] is role_args


def _text_of(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return handle.read()
