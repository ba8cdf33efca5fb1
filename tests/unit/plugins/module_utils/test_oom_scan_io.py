# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the scan reads: the page cache left as found, gzip through zlib, low priority."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import zlib

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils import oom_sources
from ansible_collections.oomkit.linux.plugins.module_utils.oom_log import CacheReader, GzipReader
from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import LowPriority, current_priority, gather

KERNEL_REPORT = (
    'Dec  2 10:00:00 h kernel: [  100.000000] stress invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, '
    'oom_score_adj=0\n'
    'Dec  2 10:00:00 h kernel: [  100.000100] memory: usage 65536kB, limit 65536kB, failcnt 3\n'
    'Dec  2 10:00:00 h kernel: [  100.000200] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,'
    'mems_allowed=0,oom_memcg=/t,task_memcg=/t,task=stress,pid=4242,uid=0\n'
    'Dec  2 10:00:00 h kernel: [  100.000300] Memory cgroup out of memory: Killed process 4242 (stress) '
    'total-vm:9000kB, anon-rss:8000kB, file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:60kB oom_score_adj:0\n'
)


def _log(path, mib=8):
    noise = ''.join('Dec  2 10:00:00 h sshd[%d]: Disconnected from user deploy 10.0.0.%d port 22\n' % (i, i % 250)
                    for i in range(2000))
    with open(str(path), 'w') as f:
        for k in range(mib * 1024 * 1024 // len(noise) + 1):
            f.write(noise)
            if k % 7 == 3:
                f.write(KERNEL_REPORT)
        f.flush()
        os.fsync(f.fileno())
    return str(path)


def _resident_pages(path):
    """Pages of ``path`` in the page cache, by util-linux fincore (the real tool)."""
    out = subprocess.run(['fincore', '--bytes', '--noheadings', '--output', 'PAGES', path], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    return int(out.split()[0])


def _evict(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


needs_fincore = pytest.mark.skipif(shutil.which('fincore') is None, reason='util-linux fincore not installed')


@needs_fincore
def test_a_scan_drops_what_it_brought_into_the_page_cache(tmp_path):
    path = _log(tmp_path / 'messages')
    _evict(path)
    if _resident_pages(path) > 16:
        pytest.skip('this file system keeps the pages (DONTNEED ignored)')
    pages = os.path.getsize(path) // 4096
    res = gather(sources=['files'], paths=[path], config=False, enrich=False)
    assert res['summary']['total'] > 5
    # the run read every byte, from disk, and handed the pages back (a few at range edges may stay)
    assert _resident_pages(path) < max(16, pages // 100)


@needs_fincore
def test_a_scan_keeps_the_pages_that_were_cached(tmp_path):
    path = _log(tmp_path / 'messages')
    with open(path, 'rb') as f:
        while f.read(1 << 20):
            pass
    before = _resident_pages(path)
    res = gather(sources=['files'], paths=[path], config=False, enrich=False)
    assert res['summary']['total'] > 5
    assert _resident_pages(path) >= before - 2


def test_cache_reader_reads_the_range_exactly(tmp_path):
    path = _log(tmp_path / 'messages', mib=2)
    with open(path, 'rb') as f:
        data = f.read()
    fd = os.open(path, os.O_RDONLY)
    try:
        for start, end, size in ((0, None, 1 << 20), (12345, 1500000, 65536), (4096, 4097, 7)):
            _evict(path)
            reader = CacheReader(fd, start, end)
            got = bytearray()
            buf = bytearray(size)
            while True:
                n = reader.readinto(buf)
                if not n:
                    break
                got += buf[:n]
            reader.close()
            assert bytes(got) == data[start:end]
    finally:
        os.close(fd)


class _Raw(object):
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def readinto(self, b):
        n = min(len(b), len(self.data) - self.pos, 777)
        b[:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n


def _inflate(raw, size):
    g = GzipReader(raw, block=1000)
    out = bytearray()
    buf = bytearray(size)
    while True:
        n = g.readinto(buf)
        if not n:
            return bytes(out)
        out += buf[:n]


@pytest.mark.parametrize('size', [1, 100, 1 << 20])
def test_gzip_reader_reads_every_member_like_the_gzip_module(size):
    data = os.urandom(5000) + KERNEL_REPORT.encode() * 3000
    members = gzip.compress(data) + gzip.compress(b'second member\n')
    assert _inflate(_Raw(members + b'\0' * 8), size) == gzip.decompress(members) == data + b'second member\n'


def test_gzip_reader_errors():
    with pytest.raises(OSError):
        _inflate(_Raw(b'plain text, not gzip'), 4096)
    with pytest.raises(EOFError):
        _inflate(_Raw(gzip.compress(os.urandom(20000))[:-50]), 4096)
    with pytest.raises(zlib.error):
        blob = bytearray(gzip.compress(os.urandom(20000)))
        blob[30:60] = b'\xff' * 30
        _inflate(_Raw(bytes(blob)), 4096)
    assert _inflate(_Raw(b''), 10) == b''


def test_gzip_log_found_with_the_same_events_as_plain(tmp_path):
    path = _log(tmp_path / 'messages', mib=2)
    with open(path, 'rb') as f, gzip.open(str(tmp_path / 'messages.1.gz'), 'wb') as g:
        shutil.copyfileobj(f, g)
    plain = gather(sources=['files'], paths=[path], config=False, enrich=False)
    packed = gather(sources=['files'], paths=[str(tmp_path / 'messages.1.gz')], config=False, enrich=False)
    assert packed['summary']['total'] == plain['summary']['total'] > 0
    assert [e['killed_pid'] for e in packed['events']] == [e['killed_pid'] for e in plain['events']]


def test_low_priority_while_reading_and_restored_after(tmp_path, monkeypatch):
    seen = []
    real = oom_sources.SourceReader.run

    def spy(self, *args, **kwargs):
        seen.append(current_priority())
        return real(self, *args, **kwargs)
    monkeypatch.setattr(oom_sources.SourceReader, 'run', spy)
    path = _log(tmp_path / 'messages', mib=1)
    before = current_priority()
    res = gather(sources=['files'], paths=[path], config=False, enrich=False)
    nice, ioprio = seen[0]
    assert nice == 19
    assert 'nice' in res['priority']['applied']
    if ioprio is not None:
        assert 'ioprio' in res['priority']['applied']
        assert ioprio >> 13 == 3  # the idle class
    if os.geteuid() == 0:
        assert current_priority() == before
    res = gather(sources=['files'], paths=[path], config=False, enrich=False, priority='normal')
    assert seen[-1] == current_priority() and res['priority']['applied'] == []


def test_low_priority_is_inherited_by_commands():
    with LowPriority() as prio:
        out = subprocess.run(['sh', '-c', 'cut -d" " -f19 /proc/self/stat'], check=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
    assert 'nice' in prio.applied
    assert out.strip() == '19'
