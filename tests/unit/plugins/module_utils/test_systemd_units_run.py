# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd_oom's ``units`` form (module_utils/systemd.run_many): several units in one module run, one shared
transaction, ONE daemon-reload; bad input fails before anything is written, a failed reload restores every
drop-in. Against a fixture tree with recorded systemctl outputs (test_systemd.py's helpers); the same form runs
for real in the VMs (the hardening role in extensions/molecule/vm_fleet and vm_modules, bench/fleet --vm)."""

from __future__ import annotations

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import systemd as sd

from ansible_collections.oomkit.linux.tests.unit.plugins.module_utils.test_systemd import (
    SHOW_252_BEFORE, Systemctl, booted_tree, read, write)

SHOW_OTHER = SHOW_252_BEFORE.replace("probe.service", "other.service").replace("MainPID=55", "MainPID=66")


def two_units(tmp_path):
    fs = booted_tree(tmp_path)
    write(tmp_path, "/proc/66/oom_score_adj", "0\n")
    write(tmp_path, "/proc/66/stat", "66 (sleep) S 1 66 66 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 4243 0 0\n")
    write(tmp_path, "/proc/66/comm", "sleep\n")
    write(tmp_path, "/proc/66/cmdline", "/bin/sleep\0infinity\0")
    write(tmp_path, "/sys/fs/cgroup/unified/system.slice/other.service/cgroup.procs", "66\n")
    return fs


def module_params(units, **kwargs):
    base = dict(name=None, units=units, state="present", dropin_name="50-oomkit-oom.conf", exclusive=False,
                live=True, restart="auto", unsupported="fail", backup=False)
    base.update(kwargs)
    return base


def after(show, **values):
    for key, value in values.items():
        show = show.replace("%s=" % key, "%s=%s\n#" % (key, value), 1)
    return show


def test_two_units_one_run_one_reload(tmp_path):
    fs = two_units(tmp_path)
    runner = Systemctl(shows=[SHOW_252_BEFORE, SHOW_OTHER, after(SHOW_252_BEFORE, OOMScoreAdjust=-500),
                              after(SHOW_OTHER, OOMScoreAdjust=-500)])
    result = sd.run_many(fs, runner, module_params([{"name": "probe", "oom_score_adjust": -500},
                                                    {"name": "other.service", "oom_score_adjust": "-500"}]))
    assert runner.verbs() == ["--version", "show", "show", "daemon-reload", "show", "show"]
    assert result["changed"] is True and result["daemon_reloaded"] is True
    assert [r["unit"] for r in result["units"]] == ["probe.service", "other.service"]
    for unit, pid in (("probe.service", 55), ("other.service", 66)):
        assert "OOMScoreAdjust=-500" in read(tmp_path, "/etc/systemd/system/%s.d/50-oomkit-oom.conf" % unit)
        assert read(tmp_path, "/proc/%d/oom_score_adj" % pid).strip() == "-500"
    assert [r["live"][0]["status"] for r in result["units"]] == ["changed", "changed"]
    assert all(r["daemon_reloaded"] and not r["restart_required"] for r in result["units"])
    # one diff: both drop-ins, then the live values of both units
    assert [d["after_header"] for d in result["diff"]][:2] == [
        "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf", "/etc/systemd/system/other.service.d/50-oomkit-oom.conf"]

    # again: nothing to change, no reload
    runner = Systemctl(shows=[after(SHOW_252_BEFORE, OOMScoreAdjust=-500), after(SHOW_OTHER, OOMScoreAdjust=-500)])
    again = sd.run_many(fs, runner, module_params([{"name": "probe", "oom_score_adjust": -500},
                                                   {"name": "other.service", "oom_score_adjust": -500}]))
    assert again["changed"] is False and again["daemon_reloaded"] is False
    assert "daemon-reload" not in runner.verbs()


def test_a_bad_value_in_any_unit_fails_before_anything_is_written(tmp_path):
    fs = two_units(tmp_path)
    runner = Systemctl(shows=[SHOW_252_BEFORE, SHOW_OTHER])
    with pytest.raises(sd.SystemdError, match="ambiguous"):
        sd.run_many(fs, runner, module_params([{"name": "probe", "oom_score_adjust": -500},
                                               {"name": "other", "memory_max": "512MB"}]))
    assert "show" not in runner.verbs() and "daemon-reload" not in runner.verbs()
    assert read(tmp_path, "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf") is None
    assert read(tmp_path, "/proc/55/oom_score_adj").strip() == "0"


def test_a_failed_reload_restores_every_dropin(tmp_path):
    fs = two_units(tmp_path)
    write(tmp_path, "/etc/systemd/system/other.service.d/50-oomkit-oom.conf", "[Service]\nOOMScoreAdjust=-100\n")
    runner = Systemctl(shows=[SHOW_252_BEFORE, SHOW_OTHER], fail={"daemon-reload": (1, "", "Access denied")})
    with pytest.raises(sd.SystemdError) as err:
        sd.run_many(fs, runner, module_params([{"name": "probe", "oom_score_adjust": -500},
                                               {"name": "other", "oom_score_adjust": -500}]))
    message = str(err.value)
    assert "the previous drop-in /etc/systemd/system/probe.service.d/50-oomkit-oom.conf was restored" in message
    assert "the previous drop-in /etc/systemd/system/other.service.d/50-oomkit-oom.conf was restored" in message
    assert read(tmp_path, "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf") is None
    assert read(tmp_path, "/etc/systemd/system/other.service.d/50-oomkit-oom.conf") == "[Service]\nOOMScoreAdjust=-100\n"
    assert read(tmp_path, "/proc/55/oom_score_adj").strip() == "0"


def test_check_mode_writes_nothing(tmp_path):
    fs = two_units(tmp_path)
    runner = Systemctl(shows=[SHOW_252_BEFORE, SHOW_OTHER])
    result = sd.run_many(fs, runner, module_params([{"name": "probe", "oom_score_adjust": -500},
                                                    {"name": "other", "memory_max": "1G", "live": "no"}]), check_mode=True)
    assert result["changed"] is True and result["daemon_reloaded"] is True
    assert "daemon-reload" not in runner.verbs()
    assert read(tmp_path, "/etc/systemd/system/other.service.d/50-oomkit-oom.conf") is None
    assert read(tmp_path, "/proc/55/oom_score_adj").strip() == "0"
    assert result["units"][1]["settings"]["memory_max"]["after"] == "1G"


@pytest.mark.parametrize("units, extra, message", [
    ([], {}, "non-empty list"),
    (["probe"], {}, "units #1 must be a dict"),
    ([{"oom_score_adjust": -1}], {}, "units #1 needs a name"),
    ([{"name": "probe", "oom_score": -1}], {}, r"units #1: unknown key\(s\) oom_score"),
    ([{"name": "probe", "oom_score_adjust": -1}, {"name": "probe.service", "memory_max": "1G"}], {},
     "unit probe.service is given twice"),
    ([{"name": "probe", "oom_score_adjust": -1}], {"memory_max": "1G"}, "give no memory_max beside it"),
    ([{"name": "probe", "oom_score_adjust": -1}], {"name": "x"}, "give no name beside it"),
    ([{"name": "probe", "state": "gone"}], {}, "state must be present or absent"),
    ([{"name": "probe", "oom_score_adjust": -1, "live": "maybe"}], {}, "units #1 live: 'maybe' is not a boolean"),
])
def test_bad_units_are_clear_errors_and_change_nothing(tmp_path, units, extra, message):
    fs = two_units(tmp_path)
    runner = Systemctl(shows=[SHOW_252_BEFORE])
    with pytest.raises(sd.SystemdError, match=message):
        sd.run_many(fs, runner, module_params(units, **extra))
    assert "daemon-reload" not in runner.verbs()
    assert read(tmp_path, "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf") is None
