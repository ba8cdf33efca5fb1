# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML fleet report, looked at by a real browser (Debian's chromium, headless).

Run with `make browser` (installs chromium and chromium-driver from apt when missing), or
`PYTHONPATH=<dir holding ansible_collections> python -m pytest tests/browser`.

The report is built from log files with hostile process names, by the real parser and the real
renderer. Chromium loads it, runs whatever it would run, and prints the DOM it ended up with:
the page must render, the SVG chart must be there with one mark per kill, the names must be
text, and no script may have run (a script in those names would change document.title). A
control page with the same name left unescaped proves that this chromium does run such scripts,
so the clean result means something.
"""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import gather
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report import build_report, render_html

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTION = os.path.dirname(os.path.dirname(HERE))
HOSTILE_LOG = os.path.join(HERE, 'files', 'hostile-messages.log')
SAMPLE_LOG = os.path.join(COLLECTION, 'roles', 'diagnosis', 'files', 'samples', 'euleros-messages.log')

XSS = '<script>alert(1)</script>'
TITLE_SCRIPT = "<script>document.title='pwned'</script>"
IMG_ONERROR = "<img src=x onerror=document.title='pwned'>"
TITLE = 'OOM diagnosis report'

CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-extensions',
                  '--virtual-time-budget=3000']


def _chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail('chromium is not installed: run `make browser` (it installs it with tools/apt-ensure.sh chromium)')
    return None


def run_chromium(url, *extra):
    """Run chromium headless with a fresh profile; return its stdout."""
    profile = tempfile.mkdtemp(prefix='oomkit-chromium-')
    try:
        proc = subprocess.run([_chromium()] + CHROMIUM_FLAGS + ['--user-data-dir=%s' % profile] + list(extra) + [url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr.decode('utf-8', 'replace')[-2000:]
    return proc.stdout.decode('utf-8', 'replace')


class DomSummary(HTMLParser):
    """Tags, title, text, and the SVG marks of the dumped DOM."""

    def __init__(self):
        HTMLParser.__init__(self)
        self.tags = []
        self.text = []
        self.title = ''
        self._in_title = False
        self.kills = 0
        self.svg_ids = []
        self.attrs = []

    def handle_starttag(self, tag, attrs):
        self.attrs.extend(attrs)
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == 'title' and 'svg' not in self.tags[-3:-1]:
            self._in_title = not self.title
        if tag == 'svg':
            self.svg_ids.append(attrs.get('id'))
        if tag == 'circle' and 'kill' in (attrs.get('class') or '').split():
            self.kills += 1

    def handle_endtag(self, tag):
        if tag == 'title':
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        self.text.append(data)


def parse_dom(text):
    dom = DomSummary()
    dom.feed(text)
    return dom


@pytest.fixture(scope='module')
def report_dir():
    path = tempfile.mkdtemp(prefix='oomkit-report-')
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope='module')
def report(report_dir):
    results = []
    for log in (HOSTILE_LOG, SAMPLE_LOG):
        data = gather(sources=['files'], paths=[log], config=False, enrich=False)
        results.append({'ansible_facts': {'oom': {'events': data['events'], 'summary': data['summary'],
                                                  'config': {'sysctl': {'vm.panic_on_oom': 0}},
                                                  'sources': data['sources']}}})
    results.append({'unreachable': True, 'msg': 'Failed to connect: ' + XSS})
    hosts = ['evil-host', 'euler1', 'ghost']
    rep = build_report(hosts, results, now=datetime.datetime(2026, 11, 26, 12, 0, tzinfo=datetime.timezone.utc))
    path = os.path.join(report_dir, 'report.html')
    with open(path, 'w') as handle:
        handle.write(render_html(rep))
    return rep, path


def test_report_renders_with_chart_and_names_as_text(report):
    rep, path = report
    dom = parse_dom(run_chromium('file://' + path, '--dump-dom'))
    # rendered, and no script ran: the title is ours
    assert dom.title == TITLE
    assert 'body' in dom.tags and 'table' in dom.tags
    # the chart is there, one mark per kill
    assert 'timeline' in dom.svg_ids
    assert dom.kills == len(rep['events']) == 10
    # the hostile names are text, not elements
    text = ''.join(dom.text)
    for name in (XSS, TITLE_SCRIPT, IMG_ONERROR, "{{ lookup('pipe','id') }}"):
        assert name in text, name
    assert 'script' not in dom.tags
    assert 'img' not in dom.tags
    assert 'pwned' not in dom.title
    # unreachable host listed, its message escaped too
    assert 'ghost: unreachable (Failed to connect: %s)' % XSS in text


def test_control_page_proves_chromium_runs_inline_scripts(report_dir):
    """The same hostile name, deliberately unescaped and without the CSP: the script runs."""
    control = os.path.join(report_dir, 'control.html')
    with open(control, 'w') as handle:
        handle.write('<!DOCTYPE html><html><head><title>%s</title></head><body><p>%s</p></body></html>'
                     % (TITLE, TITLE_SCRIPT))
    dom = parse_dom(run_chromium('file://' + control, '--dump-dom'))
    assert dom.title == 'pwned'


def test_screenshot_is_drawn(report, report_dir):
    _rep, path = report
    shot = os.path.join(report_dir, 'report.png')
    run_chromium('file://' + path, '--screenshot=%s' % shot, '--window-size=1280,1600', '--hide-scrollbars')
    with open(shot, 'rb') as handle:
        png = handle.read()
    assert png[:8] == b'\x89PNG\r\n\x1a\n'
    width, height = int.from_bytes(png[16:20], 'big'), int.from_bytes(png[20:24], 'big')
    assert (width, height) == (1280, 1600)
    # a blank page compresses to a few kB; tables, text and the chart do not
    assert len(png) > 40000, len(png)


def test_page_loads_nothing_from_outside(report):
    _rep, path = report
    with open(path) as handle:
        page = handle.read()
    dom = DomSummary()
    dom.feed(page)
    # no element points anywhere (the hostile `<img src=x ...>` name is text, not a tag)
    assert not [a for a in dom.attrs if a[0] in ('src', 'href', 'srcset', 'action', 'data')]
    style = page[page.index('<style>'):page.index('</style>')]
    assert '@import' not in style and 'url(' not in style
