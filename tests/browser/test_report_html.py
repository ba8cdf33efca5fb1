# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML fleet report, looked at by a real browser (Debian's chromium, headless).

Run with `make browser` (installs chromium and chromium-driver from apt when missing), or
`PYTHONPATH=<dir holding ansible_collections> python -m pytest tests/browser`.

The report is built from log files with hostile process names, by the real parser and the real
renderer. Chromium loads it, runs whatever it would run, and prints the DOM it ended up with:
the page must render, the SVG chart must be there with one bar per day, the names must be
text, and no script may have run (a script in those names would change document.title). A
control page with the same name left unescaped proves that this chromium does run such scripts,
so the clean result means something.

Then fleets of 10, 100 and 1,000 hosts (the real parser's events of the fixture logs and the hostile
log, varied per host, in inventory groups) are opened through chromedriver (W3C WebDriver over HTTP,
no client library): the page's laid-out height and width must stay in bounds whatever the fleet size
(the overview is bounded, hosts sit in collapsed sections), the hostile names must still be text,
and a full-page screenshot of each is saved (SCREENSHOT_DIR, default .tmp/browser of the checkout).
"""

from __future__ import annotations

import base64
import datetime
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from html.parser import HTMLParser

import pytest

from ansible_collections.oomkit.linux.plugins.module_utils.oom_sources import gather
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report import build_report, render_html
from ansible_collections.oomkit.linux.plugins.plugin_utils.oom_report_hosts import host_summary

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
        self.bars = 0
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
        if tag == 'g' and 'day' in (attrs.get('class') or '').split():
            self.bars += 1

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
    # the chart is there, one bar per day with kills
    assert 'kills-by-day' in dom.svg_ids
    assert len(rep['events']) == 10
    assert dom.bars == len(rep['fleet']['kills_by_day']) == 3
    # the hostile names are text, not elements
    text = ''.join(dom.text)
    for name in (XSS, TITLE_SCRIPT, IMG_ONERROR, "{{ lookup('pipe','id') }}"):
        assert name in text, name
    assert 'script' not in dom.tags
    assert 'img' not in dom.tags
    assert 'pwned' not in dom.title
    # unreachable host listed, its message escaped too
    assert 'ghost: unreachable (Failed to connect: %s)' % XSS in text
    # the hardening proposal: its table, and the hostile cgroup names of what was not proposed, as text
    assert 'Hardening proposal' in text and 'limit cache-loader.service to 6472M' in text
    assert "/system.slice/{{ lookup('pipe'" in text and 'the cgroup is not on the host now' in text


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


# ------------------------------------------------------------------------------------------------------------
# fleets of 10, 100 and 1,000 hosts, laid out by chromium through chromedriver
# ------------------------------------------------------------------------------------------------------------

FIXTURES = os.path.join(COLLECTION, 'tests', 'unit', 'fixtures', 'oom_logs')
SCREENSHOT_DIR = os.environ.get('SCREENSHOT_DIR') or os.path.join(COLLECTION, '.tmp', 'browser')
WIDTH = 1280
# laid-out height of the page (all sections collapsed) at each fleet size: the overview is bounded
# (top 10 lists, 20 ranked hosts, 50 groups), findings are one per problem, hosts sit in sections of 50
HEIGHT_BOUNDS = {10: (1500, 9000), 100: (2000, 9000), 1000: (2000, 9000)}
MAX_SCREENSHOT_BYTES = 6 * 1024 * 1024


def _seed_events():
    paths = sorted(glob.glob(os.path.join(FIXTURES, '*.log'))) + [HOSTILE_LOG]
    data = gather(sources=['files'], paths=paths, config=False, enrich=False)
    return [e for e in data['events'] if e.get('killed_pid') is not None], data['sources']


def fleet_report(hosts, per_host=25):
    """A report of `hosts` hosts: the real parser's events, varied per host, three inventory groups."""
    seed, sources = _seed_events()
    summaries = []
    for i in range(hosts):
        events = []
        for k in range(per_host if i % 5 else 0):  # one host in five has no kill
            event = dict(seed[(i + k) % len(seed)])
            event['uptime'] = 100.0 + i + k * 0.5
            event['killed_pid'] = 100000 + i * per_host + k
            event['time'] = '2026-11-%02dT%02d:%02d:00+00:00' % (1 + (i + k) % 28, k % 24, i % 60)
            events.append(event)
        result = {'ansible_facts': {'oom': {'events': events, 'summary': {'total': len(events)}, 'sources': sources,
                                            'config': {'sysctl': {'vm.panic_on_oom': i % 2, 'vm.oom_dump_tasks': 1},
                                                       'vmstat_oom_kill': len(events)}}}}
        name = 'node%04d' % (i + 1) if i else XSS  # a host name is attacker-controlled too
        summaries.append(host_summary(name, result, groups=[('db', 'web', 'batch')[i % 3]]))
    names = [x['name'] for x in summaries]
    return build_report(names, summaries, now=datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.timezone.utc))


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class WebDriver(object):
    """Just enough W3C WebDriver (HTTP + JSON) to load a page, ask its layout and take a screenshot."""

    def __init__(self):
        driver = shutil.which('chromedriver')
        if not driver:
            pytest.fail('chromedriver is not installed: run `make browser` (tools/apt-ensure.sh chromium-driver)')
        self.port = _free_port()
        self.proc = subprocess.Popen([driver, '--port=%d' % self.port], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.profile = tempfile.mkdtemp(prefix='oomkit-chromedriver-')
        deadline = time.time() + 30
        while True:
            try:
                self._call('GET', '/status')
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        options = {'binary': _chromium(), 'args': [f for f in CHROMIUM_FLAGS if not f.startswith('--virtual-time')]
                   + ['--user-data-dir=%s' % self.profile, '--window-size=%d,900' % WIDTH, '--hide-scrollbars']}
        session = self._call('POST', '/session', {'capabilities': {'alwaysMatch': {
            'browserName': 'chrome', 'goog:chromeOptions': options}}})
        self.session = '/session/%s' % session['sessionId']

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else (b'{}' if method == 'POST' else None)
        request = urllib.request.Request('http://127.0.0.1:%d%s' % (self.port, path), data=data, method=method,
                                         headers={'Content-Type': 'application/json'})
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.loads(response.read().decode())['value']

    def open(self, url):
        self._call('POST', self.session + '/url', {'url': url})

    def script(self, source):
        # WebDriver runs this through the DevTools protocol, outside the page's CSP (which still forbids
        # the page's own scripts)
        return self._call('POST', self.session + '/execute/sync', {'script': source, 'args': []})

    def screenshot(self, path, height):
        # the window's height includes what is not the page (the difference of outer and inner heights)
        extra = self.script('return window.outerHeight - window.innerHeight;') or 0
        self._call('POST', self.session + '/window/rect', {'width': WIDTH, 'height': height + max(extra, 0)})
        png = base64.b64decode(self._call('GET', self.session + '/screenshot'))
        with open(path, 'wb') as handle:
            handle.write(png)
        return png

    def close(self):
        try:
            self._call('DELETE', self.session)
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope='module')
def webdriver():
    driver = WebDriver()
    yield driver
    driver.close()


LAYOUT = """return {height: document.documentElement.scrollHeight, width: document.documentElement.scrollWidth,
  title: document.title, scripts: document.querySelectorAll('script, img, iframe, object').length,
  hostSections: document.querySelectorAll('details.host').length,
  sections: document.querySelectorAll('details.section').length,
  open: document.querySelectorAll('details[open]').length,
  bars: document.querySelectorAll('#kills-by-day g.day').length,
  findings: document.querySelectorAll('#findings tbody tr').length,
  text: document.body.innerText.length,
  hostileText: document.body.innerText.indexOf('<script>alert(1)</script>') >= 0};"""


@pytest.mark.parametrize('hosts', [10, 100, 1000])
def test_fleet_page_stays_readable_and_bounded(webdriver, report_dir, hosts):
    report = fleet_report(hosts)
    path = os.path.join(report_dir, 'fleet-%d.html' % hosts)
    page = render_html(report)
    with open(path, 'w') as handle:
        handle.write(page)
    webdriver.open('file://' + path)
    layout = webdriver.script(LAYOUT)
    # rendered, no script ran, nothing hostile became an element, nothing is open
    assert layout['title'] == TITLE and layout['scripts'] == 0
    assert layout['hostileText'], 'the hostile names must show as text'
    assert layout['open'] == 0
    assert layout['hostSections'] == hosts
    assert layout['sections'] == (0 if hosts <= 50 else (hosts + 49) // 50)
    assert layout['bars'] == len(report['fleet']['kills_by_day']) > 0
    assert layout['findings'] == len(report['findings'])
    # the overview comes first, then findings, then hosts
    assert page.index('id="kills-by-day"') < page.index('id="findings"') < page.index('id="hosts"')
    os.makedirs(SCREENSHOT_DIR, exist_ok=True)
    shot = os.path.join(SCREENSHOT_DIR, 'fleet-%d-hosts.png' % hosts)
    png = webdriver.screenshot(shot, min(layout['height'], 16000))
    low, high = HEIGHT_BOUNDS[hosts]
    assert low <= layout['height'] <= high, layout
    assert layout['width'] <= WIDTH, layout  # nothing wider than the window
    assert png[:8] == b'\x89PNG\r\n\x1a\n'
    width, height = int.from_bytes(png[16:20], 'big'), int.from_bytes(png[20:24], 'big')
    assert width == WIDTH and abs(height - layout['height']) <= 200, (width, height, layout)
    assert 40000 < len(png) < MAX_SCREENSHOT_BYTES, len(png)
    with open(os.path.join(SCREENSHOT_DIR, 'fleet-%d-hosts.json' % hosts), 'w') as handle:
        json.dump(dict(layout, png_bytes=len(png), png_size=[width, height], html_bytes=len(page.encode())), handle)
