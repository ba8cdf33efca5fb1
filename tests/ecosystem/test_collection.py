# -*- coding: utf-8 -*-
# Copyright: (c) 2026, oomkit contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tarball, the changelog release and the metadata, checked with the real tools."""

from __future__ import annotations

import glob
import os
import re
import shutil
import tarfile

import yaml

from conftest import BIN, JUNK, REPO, build, galaxy, installed_collection, members, run, tool_env

DEV_ONLY = ['Makefile', 'requirements-dev.txt', '.ansible-lint', '.gitignore', '.ci', 'tools', 'bench',
            '.pytest_cache', '.hypothesis', 'docs/build', '.venv', '.tmp', '.cache', '.ansible', 'tests/output']


def _read_member(tarball, name):
    with tarfile.open(tarball) as t:
        return t.extractfile(name).read().decode()


def test_tarball_ships_the_collection_and_no_development_files(tarball):
    names = members(tarball)
    for path in DEV_ONLY + JUNK:
        assert not any(n == path or n.startswith(path + '/') for n in names), path
    assert not [n for n in names if '__pycache__' in n.split('/') or n.endswith('.pyc')]
    assert not [n for n in names if os.path.basename(n) in ('.pytest_cache', '.hypothesis', 'oom')]
    for path in ('LICENSE', 'README.md', 'requirements.txt', 'meta/runtime.yml', 'meta/execution-environment.yml',
                 'playbooks/harden.yml', 'playbooks/diagnose.yml', 'roles/diagnosis/tasks/main.yml',
                 'plugins/modules/oom_facts.py', 'changelogs/changelog.yaml', 'MANIFEST.json', 'FILES.json'):
        assert path in names, path
    # CHANGELOG.rst ships once the release has written it
    assert ('CHANGELOG.rst' in names) == os.path.isfile(os.path.join(REPO, 'CHANGELOG.rst'))


def test_license_is_the_full_gpl3_text(tarball):
    text = _read_member(tarball, 'LICENSE')
    assert text.lstrip().startswith('GNU GENERAL PUBLIC LICENSE')
    assert 'Version 3, 29 June 2007' in text and 'END OF TERMS AND CONDITIONS' in text
    debian = '/usr/share/common-licenses/GPL-3'
    if os.path.isfile(debian):
        with open(debian) as f:
            assert text == f.read()
    assert galaxy()['license'] == ['GPL-3.0-or-later']


def test_action_group_lists_every_module():
    with open(os.path.join(REPO, 'meta', 'runtime.yml')) as f:
        runtime = yaml.safe_load(f)
    modules = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(REPO, 'plugins', 'modules', '*.py'))
                     if not os.path.basename(p).startswith('_'))
    assert sorted(runtime['action_groups']['oomkit']) == modules


def test_no_bugfix_fragments_for_code_never_released():
    with open(os.path.join(REPO, 'changelogs', 'changelog.yaml')) as f:
        released = yaml.safe_load(f).get('releases') or {}
    if released:
        return  # after the first release, bugfixes fix released code
    for path in glob.glob(os.path.join(REPO, 'changelogs', 'fragments', '*.y*ml')):
        with open(path) as f:
            sections = yaml.safe_load(f) or {}
        assert 'bugfixes' not in sections, '%s: nothing was released yet, so this is a minor_change' % path


def test_ee_definition_installs_this_version():
    """The repository's EE file names the tarball of galaxy.yml's version and leaves the Python
    requirements to the collection's own metadata (one home: requirements.txt)."""
    with open(os.path.join(REPO, 'execution-environment.yml')) as f:
        ee = yaml.safe_load(f)
    g = galaxy()
    name = '%s-%s-%s.tar.gz' % (g['namespace'], g['name'], g['version'])
    assert ee['dependencies']['galaxy']['collections'][0]['name'].endswith('/' + name)
    assert ee['additional_build_files'][0]['src'] == name
    assert 'python' not in ee['dependencies']
    with open(os.path.join(REPO, 'meta', 'execution-environment.yml')) as f:
        meta_ee = yaml.safe_load(f)
    assert meta_ee['dependencies']['python'] == 'requirements.txt'


def test_release_dry_run_writes_changelog_rst_and_ships_it(used_checkout, tmp_path):
    """What the release does, in a scratch copy: antsibull-changelog release for galaxy.yml's
    version, then the tarball built from it carries CHANGELOG.rst."""
    g = galaxy()
    scratch = str(tmp_path / 'linux')
    shutil.copytree(used_checkout, scratch, symlinks=True)
    with open(os.path.join(scratch, 'changelogs', 'changelog.yaml')) as f:
        if g['version'] in (yaml.safe_load(f).get('releases') or {}):
            return  # released already: the tarball test above checks CHANGELOG.rst
    run([os.path.join(BIN, 'antsibull-changelog'), 'lint'], cwd=scratch)
    run([os.path.join(BIN, 'antsibull-changelog'), 'release', '--date', '2026-12-02'], cwd=scratch,
        env=tool_env())
    with open(os.path.join(scratch, 'CHANGELOG.rst')) as f:
        rst = f.read()
    assert 'v%s' % g['version'] in rst and 'Release Summary' in rst
    assert 'Bugfixes' not in rst
    # new content is listed from version_added: every module, filter and role
    for module in glob.glob(os.path.join(REPO, 'plugins', 'modules', '*.py')):
        assert 'oomkit.linux.%s' % os.path.basename(module)[:-3] in rst, module
    assert 'New Roles' in rst and 'oomkit.linux.hardening' in rst and 'oomkit.linux.diagnosis' in rst
    assert 'New Modules' in rst and 'Filter' in rst
    with open(os.path.join(scratch, 'changelogs', 'changelog.yaml')) as f:
        assert g['version'] in yaml.safe_load(f)['releases']
    assert not glob.glob(os.path.join(scratch, 'changelogs', 'fragments', '*.yml'))
    tarball = build(scratch, str(tmp_path / 'dist'))
    assert 'CHANGELOG.rst' in members(tarball)
    assert '.plugin-cache.yaml' not in {os.path.basename(n) for n in members(tarball)}


def test_builder_introspect_on_the_installed_collection_lists_jmespath(installed):
    out = run([os.path.join(BIN, 'ansible-builder'), 'introspect', '--sanitize', installed]).stdout
    data = yaml.safe_load(out[out.index('\n---\n'):])
    with open(os.path.join(REPO, 'requirements.txt')) as f:
        declared = [line.strip() for line in f if line.strip() and not line.startswith('#')]
    assert 'jmespath' in ' '.join(declared)
    assert [r.split('#')[0].strip() for r in data['python']] == declared, out
    assert all(r.split('#', 1)[1].strip() == 'from collection oomkit.linux' for r in data['python']), out
    assert data['system'] == []


def test_ansible_doc_renders_every_module_of_the_installed_collection(installed):
    coll = installed_collection(installed)
    modules = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(coll, 'plugins', 'modules', '*.py')))
    out = run([os.path.join(BIN, 'ansible-doc'), '-t', 'module'] + ['oomkit.linux.' + m for m in modules],
              env=tool_env(installed)).stdout
    for m in modules:
        assert '> MODULE oomkit.linux.%s' % m in out, m
    out = run([os.path.join(BIN, 'ansible-doc'), '-t', 'role', 'oomkit.linux.hardening', 'oomkit.linux.diagnosis'],
              env=tool_env(installed)).stdout
    assert out.count('> ROLE: ') == 2 and out.count('ENTRY POINT:') >= 2
    assert 'oomkit.linux.hardening' in out and 'oomkit.linux.diagnosis' in out


def test_install_from_git(tmp_path):
    """`ansible-galaxy collection install git+URL,REF` as the README shows, from this repository's
    committed HEAD: the same files as a tarball build of it (build_ignore applies)."""
    head = run(['git', 'rev-parse', 'HEAD'], cwd=REPO).stdout.strip()
    dest = str(tmp_path / 'collections')
    run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '-p', dest,
         'git+file://%s,%s' % (REPO, head)], env=tool_env(dest))
    coll = os.path.join(dest, 'ansible_collections', 'oomkit', 'linux')
    with open(os.path.join(coll, 'MANIFEST.json')) as f:
        assert '"version": "%s"' % galaxy()['version'] in f.read()
    for path in DEV_ONLY:
        assert not os.path.exists(os.path.join(coll, path)), path
    assert os.path.isfile(os.path.join(coll, 'LICENSE')) and os.path.isfile(os.path.join(coll, 'requirements.txt'))


def test_supported_ansible_core_versions_agree():
    """The versions tools/core-matrix.sh tests are the ones the README promises, starting at
    meta/runtime.yml's requires_ansible."""
    with open(os.path.join(REPO, 'tools', 'core-matrix.sh')) as f:
        tested = re.search(r'^declare -A TARGET_PY=\((.*)\)$', f.read(), re.M).group(1)
    minors = sorted({v.rsplit('.', 1)[0] for v in re.findall(r'\[(\d+\.\d+\.\d+)\]', tested)})
    assert minors == ['2.17', '2.18', '2.19']
    with open(os.path.join(REPO, 'README.md')) as f:
        assert 'ansible-core **%s, %s or %s**' % tuple(minors) in f.read()
    with open(os.path.join(REPO, 'meta', 'runtime.yml')) as f:
        assert yaml.safe_load(f)['requires_ansible'] == '>=%s.0' % minors[0]
