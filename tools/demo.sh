#!/usr/bin/env bash
# `make demo`: the main job on this host. Runs from the Makefile, which has set up the virtualenv
# and made the live tree visible as the oomkit.linux collection.
set -euo pipefail
export ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
echo "== OOM sysctls of this host, as oomkit.linux.sysctl reports them"
ansible-playbook tools/demo/sysctl-report.yml
echo "== OOM diagnosis of this host from the bundled EulerOS-format sample log (oomkit.linux.diagnose)"
ansible-playbook tools/demo/diagnose-demo.yml
