# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drop-ins (issue 13, row 6): ours are the settings we manage; foreign lines, reset lines such
as a hand-written ``MemoryMax=`` included, are kept in place and reported; state=absent removes
our settings and deletes the file only when nothing foreign is left. Plus the text rules shared
with sysctl.d files: lines end at "\\n" only, foreign bytes are kept."""

from __future__ import annotations

from ansible_collections.oomkit.linux.plugins.module_utils import systemd as sd
from ansible_collections.oomkit.linux.tests.unit.plugins.module_utils.test_systemd import (
    SHOW_252_AFTER, SHOW_252_BEFORE, Systemctl, booted_tree, params, read, write,
)

OWN = "/etc/systemd/system/probe.service.d/50-oomkit-oom.conf"


def test_a_hand_written_reset_line_is_kept_where_it_was():
    existing = sd.HEADER % "probe.service" + "[Service]\nOOMScoreAdjust=-900\n# reset the vendor limit\nMemoryMax=\n"
    foreign = []
    text = sd.render_dropin(existing, "probe.service", "Service", [("OOMScoreAdjust", "-500")], foreign=foreign)
    assert text == sd.HEADER % "probe.service" + "[Service]\nOOMScoreAdjust=-500\n# reset the vendor limit\nMemoryMax=\n"
    assert foreign == ["# reset the vendor limit", "MemoryMax="]


def test_our_value_goes_after_a_reset_of_the_same_setting():
    existing = "[Service]\nMemoryMax=\nCPUQuota=20%\n"
    text = sd.render_dropin(existing, "probe.service", "Service", [("MemoryMax", "512M")])
    lines = text.split("\n")
    assert lines.index("MemoryMax=") < lines.index("MemoryMax=512M")  # the reset cannot cancel ours
    assert "CPUQuota=20%" in lines
    again = sd.render_dropin(text, "probe.service", "Service", [("MemoryMax", "512M")])
    assert again == text


def test_absent_keeps_foreign_lines_and_the_file():
    existing = (sd.HEADER % "probe.service" + "[Unit]\nDescription=hand-made\n[Service]\nOOMScoreAdjust=-900\n"
                "MemoryMax=\nEnvironment=A=1\n")
    foreign = []
    text = sd.render_dropin(existing, "probe.service", "Service", [], remove_options=[s.option for s in sd.SETTINGS],
                            foreign=foreign)
    assert text == "[Unit]\nDescription=hand-made\n[Service]\nMemoryMax=\nEnvironment=A=1\n"
    assert foreign == ["Description=hand-made", "MemoryMax=", "Environment=A=1"]


def test_absent_deletes_the_file_when_only_ours_is_left():
    existing = sd.HEADER % "probe.service" + "[Service]\nOOMScoreAdjust=-900\nMemoryMax=1G\n"
    assert sd.render_dropin(existing, "probe.service", "Service", [], remove_options=[s.option for s in sd.SETTINGS]) is None


def test_a_form_feed_in_a_comment_does_not_start_a_directive():
    existing = "[Service]\n# note\fExecStartPre=/bin/touch /tmp/pwned\n"
    text = sd.render_dropin(existing, "probe.service", "Service", [("MemoryMax", "1G")])
    assert "# note\fExecStartPre=/bin/touch /tmp/pwned\n" in text
    assert [key for _n, entries in sd.parse_unit_file(text) for key, _v, _r in entries if key] == ["MemoryMax"]


def test_run_absent_on_a_dropin_with_foreign_lines_keeps_them(tmp_path):
    fs = booted_tree(tmp_path, oom=-900)
    write(tmp_path, OWN, sd.HEADER % "probe.service" + "[Service]\nOOMScoreAdjust=-900\nMemoryMax=\n")
    result = sd.run(fs, Systemctl(shows=[SHOW_252_AFTER, SHOW_252_BEFORE]), params(state="absent"))
    assert result["changed"] is True
    assert read(tmp_path, OWN) == "[Service]\nMemoryMax=\n"
    assert result["foreign_lines"] == ["MemoryMax="]
    assert result["settings"] == {"oom_score_adjust": {"directive": "OOMScoreAdjust", "before": "-900", "after": None}}


def test_run_present_keeps_a_reset_line_and_latin1_bytes(tmp_path):
    fs = booted_tree(tmp_path, oom=0)
    own = tmp_path / OWN.lstrip("/")
    own.parent.mkdir(parents=True)
    own.write_bytes(b"[Service]\n# r\xe9glage manuel\nMemoryMax=\n")
    result = sd.run(fs, Systemctl(shows=[SHOW_252_BEFORE, SHOW_252_AFTER]), params(oom_score_adjust=-900))
    data = (tmp_path / OWN.lstrip("/")).read_bytes()
    assert b"# r\xe9glage manuel\nMemoryMax=\n" in data and b"OOMScoreAdjust=-900\n" in data
    assert result["foreign_lines"] == ["# r\ufffdglage manuel", "MemoryMax="]


def test_run_writes_through_a_symlinked_dropin(tmp_path):
    fs = booted_tree(tmp_path, oom=0)
    real = tmp_path / "srv/units/probe-oom.conf"
    real.parent.mkdir(parents=True)
    real.write_text("[Service]\n# kept in version control\n")
    link = tmp_path / OWN.lstrip("/")
    link.parent.mkdir(parents=True)
    link.symlink_to("../../../../srv/units/probe-oom.conf")
    sd.run(fs, Systemctl(shows=[SHOW_252_BEFORE, SHOW_252_AFTER]), params(oom_score_adjust=-900))
    assert link.is_symlink()
    assert "OOMScoreAdjust=-900\n" in real.read_text() and "# kept in version control\n" in real.read_text()
