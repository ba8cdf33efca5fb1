# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of log files read as root (issue 13, rows 7, 8 and 17): complete lines only in
the state offset, FIFOs never opened, no symlink out of the log directories for the default
sources, no file content in any error. Real FIFOs and links, real files being appended to."""

from __future__ import annotations

import gzip
import json
import os

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import gather
from ansible_collections.oomkit.linux.tests.unit.plugins.module_utils.test_oom_log_sources import kill_line, noise


# nothing here may block: the deadline fixture (tests/unit/plugins/conftest.py) applies to every test
pytestmark = pytest.mark.usefixtures("deadline")


def pids(result):
    return sorted(e['killed_pid'] for e in result['events'])


def by_name(result):
    return dict((s['name'].rsplit('/', 1)[1], s) for s in result['sources'])


def explicit(paths, **kw):
    return gather(sources=['files'], paths=[str(p) for p in paths], config=False, enrich=False, **kw)


def defaults(root, **kw):
    return gather(sources=['files'], root=str(root), config=False, enrich=False, **kw)


# --- row 7: a half line at the end is read again -----------------------------------------------------

def test_a_kill_line_half_written_at_the_end_is_reported_once_complete(tmp_path):
    log = tmp_path / 'kern.log'
    state = str(tmp_path / 'state' / 'oom.state')
    line = kill_line(4242, 100.0)
    log.write_bytes(noise(3) + line[:40])
    first = explicit([log], state_file=state)
    assert pids(first) == []
    assert 'the last line is incomplete' in ' '.join(first['sources'][0]['messages'])
    with open(state) as handle:
        saved = json.load(handle)
    assert [entry['offset'] for entry in saved['files'].values()] == [len(noise(3))]
    with open(str(log), 'ab') as handle:
        handle.write(line[40:])
    second = explicit([log], state_file=state)
    assert pids(second) == [4242]
    third = explicit([log], state_file=state)
    assert pids(third) == []  # read once, not again


def test_a_file_without_any_newline_is_read_from_the_start_next_time(tmp_path):
    log = tmp_path / 'kern.log'
    state = str(tmp_path / 'oom.state')
    line = kill_line(77, 5.0)
    log.write_bytes(line[:-1])
    explicit([log], state_file=state)
    with open(str(log), 'ab') as handle:
        handle.write(b'\n')
    assert pids(explicit([log], state_file=state)) == [77]


# --- row 8: FIFOs are skipped, never opened -----------------------------------------------------------

def test_a_fifo_named_like_a_rotated_log_is_skipped_in_the_default_sources(tmp_path):
    logdir = tmp_path / 'var/log'
    logdir.mkdir(parents=True)
    (logdir / 'kern.log').write_bytes(kill_line(11, 1.0))
    os.mkfifo(str(logdir / 'kern.log.1.gz'))
    result = defaults(tmp_path)
    assert pids(result) == [11]
    skipped = by_name(result)['kern.log.1.gz']
    assert skipped['status'] == 'skipped' and 'a FIFO' in skipped['messages'][0]
    assert any('kern.log.1.gz' in w and 'FIFO' in w for w in result['warnings'])


def test_a_fifo_in_an_explicit_glob_is_skipped(tmp_path):
    (tmp_path / 'messages').write_bytes(kill_line(12, 1.0))
    os.mkfifo(str(tmp_path / 'messages.2'))
    result = explicit([tmp_path / 'messages*'])
    assert pids(result) == [12]
    assert by_name(result)['messages.2']['status'] == 'skipped'


# --- row 17: symlinks and error messages --------------------------------------------------------------

@pytest.fixture
def secret(tmp_path):
    """A root-only file outside the log directories holding a kernel-looking kill line."""
    path = tmp_path / 'root-only' / 'secret'
    path.parent.mkdir()
    os.chmod(str(path.parent), 0o700)
    path.write_bytes(b'TOP-SECRET-TOKEN\n' + kill_line(666, 2.0))
    os.chmod(str(path), 0o600)
    return path


def test_a_symlink_out_of_the_log_directory_is_not_followed_by_default(tmp_path, secret):
    logdir = tmp_path / 'var/log'
    logdir.mkdir(parents=True)
    (logdir / 'kern.log').write_bytes(kill_line(21, 1.0))
    (logdir / 'kern.log.3').symlink_to(str(secret))
    (logdir / 'kern.log.4.gz').symlink_to(str(secret))
    result = defaults(tmp_path)
    assert pids(result) == [21]
    for name in ('kern.log.3', 'kern.log.4.gz'):
        assert by_name(result)[name]['status'] == 'skipped'
        assert 'symlink leading out of /var/log' in by_name(result)[name]['messages'][0]
    assert 'TOP-SECRET' not in json.dumps(result)


def test_a_symlink_inside_the_log_directory_is_followed(tmp_path):
    logdir = tmp_path / 'var/log'
    logdir.mkdir(parents=True)
    (logdir / 'kern.log').write_bytes(kill_line(31, 1.0))
    (logdir / 'syslog').symlink_to('kern.log')
    result = defaults(tmp_path)
    assert pids(result) == [31]


def test_an_explicit_link_is_followed_but_errors_never_quote_the_file(tmp_path, secret):
    (tmp_path / 'x.log').symlink_to(str(secret))
    copy = secret.parent / 'secret-copy'
    copy.write_bytes(secret.read_bytes())
    (tmp_path / 'y.log.gz').symlink_to(str(copy))  # not gzip: Python's error would quote b'TO'
    result = explicit([tmp_path / 'x.log', tmp_path / 'y.log.gz'])
    assert pids(result) == [666]  # the operator named the file: it is read
    gz = by_name(result)['y.log.gz']
    assert gz['status'] in ('unreadable', 'partial') and gz['errors'] == 1
    text = json.dumps(result['sources'])
    assert 'TO' not in text.replace('TOP', '') and "b'" not in text
    assert 'not a valid gzip file' in ' '.join(gz['messages'])


def test_a_truncated_gzip_error_says_so_without_content(tmp_path):
    data = gzip.compress(noise(200) + kill_line(5, 1.0))
    (tmp_path / 'm.gz').write_bytes(data[:len(data) // 2])
    result = explicit([tmp_path / 'm.gz'])
    assert 'ends early' in ' '.join(result['sources'][0]['messages'])
