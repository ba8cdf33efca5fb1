# oomkit.linux developer entry points. Every target sets up what it needs and skips what is
# already done, so `make demo` and `make test` work on a fresh Debian 12 machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON        ?= python3
VENV          := $(CURDIR)/.venv
VENV_STAMP    := $(VENV)/.installed
BIN           := $(VENV)/bin
# ansible-test only runs from .../ansible_collections/<namespace>/<name>; it gets a copy there.
# The copy lives outside the checkout: inside it, ansible-test would see our .gitignore and skip it.
CHECKOUT_ID   := $(shell printf '%s' '$(CURDIR)' | cksum | cut -d' ' -f1)
TEST_ROOT     ?= $(HOME)/.cache/oomkit-linux-test/$(CHECKOUT_ID)
# ansible itself is happy with a symlink: playbooks, molecule and the demo run the live tree.
LIVE_ROOT     := $(CURDIR)/.tmp/live
LIVE_LINK     := $(LIVE_ROOT)/ansible_collections/oomkit/linux
TEST_PYTHON   ?= 3.11
# containers.podman (for molecule and its lint) is unpacked here by `make testbed`.
TESTBED_COLLECTIONS := $(CURDIR)/.tmp/collections
export ANSIBLE_COLLECTIONS_PATH := $(LIVE_ROOT):$(TESTBED_COLLECTIONS)
export ANSIBLE_NOCOLOR ?= 1
export PATH := $(BIN):$(PATH)

.PHONY: help demo test sanity units integration lint docs changelog-lint bench molecule \
        testbed venv collection clean browser report-tools ecosystem eda integration-vm

help:
	@echo "make demo         diagnosis playbook on this host + sample log, then hardening in check mode"
	@echo "make test         every test: sanity, units, integration, lint, docs, eda, molecule, ecosystem, integration-vm"
	@echo "make sanity|units|integration|lint|docs|browser|report-tools|eda|molecule [SCENARIO=name]|ecosystem|integration-vm [SCENARIO=vm_name]|bench"

## --- set-up ------------------------------------------------------------------------------------

venv: $(VENV_STAMP)
$(VENV_STAMP): requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# ansible-test downloads a pip bootstrap script from a host we cannot reach; it uses a cached copy
# when one exists, named after the pip version it pins.
GET_PIP_STANDIN = $(HOME)/.ansible/test/cache/get_pip_$(shell $(BIN)/python -c 'import os,re,ansible_test as t; s=open(os.path.join(os.path.dirname(t.__file__),"_internal","python_requirements.py")).read(); print(re.search(r"pip=.([0-9.]+).", s).group(1).replace(".", "_"))' 2>/dev/null).py

collection: $(VENV_STAMP)
	@standin="$(GET_PIP_STANDIN)"; cmp -s tools/get_pip_standin.py "$$standin" || \
	  { mkdir -p "$$(dirname "$$standin")"; cp tools/get_pip_standin.py "$$standin"; }
	@mkdir -p $(dir $(LIVE_LINK)); test -L $(LIVE_LINK) || ln -sfn $(CURDIR) $(LIVE_LINK)

## --- the main job ------------------------------------------------------------------------------

demo: collection
	tools/demo.sh

## --- tests -------------------------------------------------------------------------------------

test: sanity units integration lint docs browser report-tools eda molecule ecosystem integration-vm
	@echo "make test: all green"

sanity: collection
	tools/apt-ensure.sh shellcheck
	tools/ansible-test.sh $(TEST_ROOT) sanity --venv --python $(TEST_PYTHON) --color no $(SANITY_ARGS)

units: collection
	tools/ansible-test.sh $(TEST_ROOT) units --venv --python $(TEST_PYTHON) --color no \
	  --requirements $(UNITS_ARGS)

# Integration targets touch the real /proc/sys, cgroups and processes of this machine (as root);
# each target restores what it changes.
integration: collection
	tools/ansible-test.sh $(TEST_ROOT) integration --local --python $(TEST_PYTHON) --color no \
	  --allow-root --allow-destructive $(INTEGRATION_ARGS)

lint: collection
	tools/testbed/setup.sh collections
	$(BIN)/ansible-lint --profile production --offline

docs: collection changelog-lint
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck .
	tools/build-docs.sh $(CURDIR)/.tmp/docs

changelog-lint: venv
	$(BIN)/antsibull-changelog lint

# The HTML fleet report, opened in a real headless Chromium.
browser: collection
	tools/apt-ensure.sh chromium chromium-driver
	PYTHONPATH=$(LIVE_ROOT) $(BIN)/python -m pytest -q -p no:cacheprovider tests/browser

# The report's outputs through the ecosystem's own tools: promtool (Debian's prometheus package, only
# the binary unpacked into .tmp, no server) on every textfile shape, and ansible-runner running a
# sliced diagnosis the way AWX does (three slices in parallel, then oomkit.linux.diagnose_merge).
report-tools: collection
	PROMTOOL="$$(tools/promtool.sh)" PYTHONPATH=$(LIVE_ROOT) $(BIN)/python -m pytest -q -p no:cacheprovider tests/report

# The collection as consumers get it, with the ecosystem's own tools: ansible-galaxy build and
# install, ansible-playbook and ansible-runner (AWX-style jobs, and in an execution environment
# built here by ansible-builder, run in podman), ansible-builder introspect, ansible-doc,
# antsibull-changelog release in a scratch copy; then ansible-core 2.17/2.18/2.19 side by side.
ecosystem: collection
	tools/testbed/setup.sh packages podman-conf
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/ecosystem $(ECOSYSTEM_ARGS)
	tools/core-matrix.sh

# The Event-Driven Ansible source and the example rulebook with the real ansible-rulebook (Java 17)
# and real OOM kills of this machine (a cgroup v1 memory limit): tests/eda.
eda: collection
	command -v java >/dev/null || tools/apt-ensure.sh openjdk-17-jre-headless
	PYTHONPATH=$(LIVE_ROOT) $(BIN)/python -m pytest -q -p no:cacheprovider tests/eda

molecule: collection testbed
	tools/molecule.sh $(SCENARIO)

# QEMU virtual machines (Debian 12 guests, cgroup v2, systemd, NUMA): extensions/molecule/vm_*.
# Installs QEMU and debootstrap, builds the guest image when its recipe changed, stops every VM.
integration-vm: collection
	tools/testbed/vm-test.sh $(SCENARIO)

testbed: venv
	tools/testbed/setup.sh

bench: collection
	tools/bench.sh

clean:
	rm -rf .tmp tests/output bench/output
