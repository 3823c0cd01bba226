# Wangge: every target installs what it needs first, and skips what is already done.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# pgbackrest: backups, WAL archiving and point-in-time restore (`wangge backup|restore`)
# patroni, etcd-server, etcd-client: the standby that takes over (`wangge cluster up --nodes 2`)
APT_PACKAGES := postgresql-15 postgresql-contrib postgresql-15-postgis-3 pgbackrest \
	patroni etcd-server etcd-client
TEST_APT_PACKAGES := chromium gdal-bin fonts-wqy-microhei
# wrk: the load generator of the HTTP benchmarks (C, so the client takes little of the 2 cores)
BENCH_APT_PACKAGES := wrk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup sysdeps test-sysdeps bench-sysdeps lint bench bench-report clean

## run: install everything, load the demo city, and serve on the embedded PostGIS
run: setup
	$(VENV)/bin/wangge db up
	$(VENV)/bin/wangge migrate
	$(VENV)/bin/wangge demo
	$(VENV)/bin/wangge serve

## test: install everything and run ruff, mypy, lint-imports and the whole pytest suite
test: setup test-sysdeps lint
	$(PY) -m pytest

## lint: ruff, mypy, and the import contracts of pyproject.toml (lint-imports)
lint: setup
	$(VENV)/bin/ruff check api gis tests migrations
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

## bench: the benchmarks in tests/bench (not part of `make test`); each records its figures
## as JSON under tests/bench/results/, then the docs' tables are rendered from them
bench: setup test-sysdeps bench-sysdeps
	$(PY) -m pytest tests/bench -p no:cacheprovider -o addopts="" -s
	$(PY) -m tests.bench.report

## bench-report: render docs/benchmarks.md and the README's bars from tests/bench/results/
bench-report: setup
	$(PY) -m tests.bench.report

setup: sysdeps $(VENV)/.installed node_modules/.installed

sysdeps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	python3 -m venv --help >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# Installs the Debian packages of $(1) that are missing.
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
endef

test-sysdeps:
	$(call apt_install,$(TEST_APT_PACKAGES))

bench-sysdeps:
	$(call apt_install,$(BENCH_APT_PACKAGES))

$(VENV)/.installed: pyproject.toml
	@[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

clean:
	-$(VENV)/bin/wangge db down
	rm -rf $(VENV) node_modules .wangge
