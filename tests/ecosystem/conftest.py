# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as its consumers get it: built by ansible-galaxy from a used checkout, installed
into an empty collections path, and run from there by ansible-playbook and ansible-runner.

Run with `make ecosystem` (or `.venv/bin/python -m pytest tests/ecosystem`). The tools are the ones
of the virtualenv this pytest runs in (ansible-core, ansible-galaxy, ansible-runner,
ansible-builder, antsibull-changelog from requirements-dev.txt).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(os.path.abspath(sys.executable))
# Targets run the system Python, as a real host would.
TARGET_PYTHON = '/usr/bin/python3'

# What a used checkout has lying around besides its tracked files: none of it may be shipped.
JUNK = [
    '.pytest_cache/v/cache/nodeids', '.hypothesis/examples/x', 'docs/build/index.html',
    'plugins/.pytest_cache/README.md', 'tests/unit/.hypothesis/x', 'plugins/module_utils/__pycache__/x.pyc',
    '.venv/bin/python', '.tmp/live/x', '.cache/x', '.ansible/x', 'tests/output/x', 'bench/output/x', 'oom',
    'roles/diagnosis/oom', 'oomkit-linux-0.9.0.tar.gz',
]


def galaxy():
    with open(os.path.join(REPO, 'galaxy.yml')) as f:
        return yaml.safe_load(f)


def tool_env(collections_path=None, **extra):
    """The environment of a tool run: our virtualenv first, only the given collections visible."""
    env = dict(os.environ)
    env['PATH'] = BIN + os.pathsep + env.get('PATH', '')
    env.update(ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_COLLECTIONS_SCAN_SYS_PATH='false',
               ANSIBLE_PYTHON_INTERPRETER=TARGET_PYTHON, ANSIBLE_RETRY_FILES_ENABLED='false')
    env['ANSIBLE_COLLECTIONS_PATH'] = collections_path or os.devnull
    env.pop('ANSIBLE_CONFIG', None)
    env.update(extra)
    return env


def run(cmd, env=None, cwd=None, check=True, timeout=600):
    proc = subprocess.run(cmd, env=env or tool_env(), cwd=cwd, stdout=subprocess.PIPE, check=False,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError('%s exited %d:\n%s' % (' '.join(cmd), proc.returncode, proc.stdout[-6000:]))
    return proc


def copy_checkout(dest):
    """The tracked and new (not ignored) files of the checkout, as `git archive` of the work tree."""
    files = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=REPO,
                           stdout=subprocess.PIPE, check=True).stdout.split(b'\0')
    for rel in files:
        if not rel:
            continue
        rel = rel.decode()
        src = os.path.join(REPO, rel)
        if not os.path.lexists(src):
            continue  # deleted in the work tree, not yet committed
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel), follow_symlinks=False)
    return dest


def build(src, out):
    os.makedirs(out, exist_ok=True)
    run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--force', '--output-path', out, src])
    g = galaxy()
    path = os.path.join(out, '%s-%s-%s.tar.gz' % (g['namespace'], g['name'], g['version']))
    assert os.path.isfile(path), os.listdir(out)
    return path


def members(tarball):
    with tarfile.open(tarball) as t:
        return {m.name.rstrip('/') for m in t.getmembers()}


@pytest.fixture(scope='session')
def used_checkout(tmp_path_factory):
    src = copy_checkout(str(tmp_path_factory.mktemp('checkout') / 'linux'))
    for rel in JUNK:
        path = os.path.join(src, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write('junk of a used checkout\n')
    return src


@pytest.fixture(scope='session')
def tarball(used_checkout, tmp_path_factory):
    return build(used_checkout, str(tmp_path_factory.mktemp('dist')))


@pytest.fixture(scope='session')
def installed(tarball, tmp_path_factory):
    """An empty collections path with the tarball installed into it (no Galaxy: a file)."""
    path = str(tmp_path_factory.mktemp('collections'))
    run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--offline', '-p', path, tarball],
        env=tool_env(path))
    coll = os.path.join(path, 'ansible_collections', 'oomkit', 'linux')
    assert os.path.isfile(os.path.join(coll, 'MANIFEST.json'))
    return path


def installed_collection(installed):
    return os.path.join(installed, 'ansible_collections', 'oomkit', 'linux')


@pytest.fixture(scope='session')
def project(tarball, tmp_path_factory):
    """An AWX project as docs and README describe it: collections/requirements.yml and playbooks
    that run the collection's playbooks; its collections installed as AWX's project update does."""
    root = tmp_path_factory.mktemp('awx')
    proj = root / 'project'
    (proj / 'collections').mkdir(parents=True)
    (proj / 'collections' / 'requirements.yml').write_text(yaml.safe_dump(
        {'collections': [{'name': tarball, 'type': 'file'}]}))
    for name in ('harden', 'diagnose'):
        (proj / (name + '.yml')).write_text(
            '---\n- name: The collection playbook\n  ansible.builtin.import_playbook: oomkit.linux.%s\n' % name)
    colls = str(root / 'requirements_collections')
    run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--offline', '-r',
         str(proj / 'collections' / 'requirements.yml'), '-p', colls], env=tool_env(colls))
    return str(proj), colls


SAMPLE_LOG_REL = 'roles/diagnosis/files/samples/euleros-messages.log'


def awx_surveys():
    """The two survey specs of docs/awx.md (the one home of the surveys), by job template name."""
    with open(os.path.join(REPO, 'docs', 'awx.md')) as f:
        text = f.read()
    specs = [json.loads(block) for block in re.findall(r'^```json\n(.*?)^```', text, re.S | re.M)]
    by_name = {s['name']: s for s in specs if 'spec' in s}
    assert set(by_name) == {'OOM hardening', 'OOM diagnosis'}, by_name.keys()
    return by_name


def survey_answers(spec, blanks=False):
    """Extra vars as AWX passes them: every question answered with its default; with blanks, every
    optional question left empty (AWX sends "")."""
    out = {}
    for q in spec['spec']:
        if blanks and not q.get('required'):
            out[q['variable']] = ''
        else:
            out[q['variable']] = q.get('default', '')
    return out
