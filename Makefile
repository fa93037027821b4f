# The README's two commands: `make run` and `make test`. Everything they need is installed from here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR_STAMP := app/static/node_modules/.installed
DIFFERENTIAL_STAMP := tests/differential/node_modules/.installed

.PHONY: run test test-citus lint typecheck bench clean system-packages vendor install

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Leaflet and the map plugins come from the npm registry, so maps work with no CDN (council intranets).
$(VENDOR_STAMP): app/static/package.json $(wildcard app/static/package-lock.json)
	if [ -f app/static/package-lock.json ]; then npm ci --prefix app/static --no-audit --no-fund --loglevel=error; \
	else npm install --prefix app/static --no-audit --no-fund --loglevel=error; fi
	touch $(VENDOR_STAMP)

# The web application's stylesheet: GOV.UK Frontend compiled with our settings (Arial, no GDS Transport).
WEB_CSS := app/static/build/contextmap.css
$(WEB_CSS): $(VENDOR_STAMP) $(wildcard app/web/scss/*.scss)
	mkdir -p $(dir $(WEB_CSS))
	app/static/node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps \
	  --silence-deprecation=import,global-builtin --load-path=app/static/node_modules \
	  app/web/scss/contextmap.scss $(WEB_CSS)

vendor: $(VENDOR_STAMP) $(WEB_CSS)

# axe-core for the browser tests' accessibility checks (tests/browser/axe.py): a test tool, kept out of the
# served assets and their lock file.
AXE_STAMP := tests/browser/node_modules/.installed
$(AXE_STAMP): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	touch $(AXE_STAMP)

# opening_hours.js, the reference tests/differential compares geo.opening_hours with: for the tests only.
$(DIFFERENTIAL_STAMP): tests/differential/package.json tests/differential/package-lock.json
	npm ci --prefix tests/differential --no-audit --no-fund --loglevel=error
	touch $(DIFFERENTIAL_STAMP)

# Debian's Chromium drives the browser tests. PostGIS itself is installed by `contextmap db ensure`
# (it knows the server's major version).
system-packages:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Browser tests need Chromium at /usr/bin/chromium: install Debian's 'chromium' package."; exit 1; fi; \
	fi
	@# WeasyPrint (the panel pack PDF) needs Pango and HarfBuzz-subset; the pack tests read PDFs with poppler-utils.
	@if ! command -v pdftotext >/dev/null || ! /sbin/ldconfig -p | grep -q libpangoft2-1.0.so.0; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils; \
	  else echo "The pack needs libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils (Debian)."; exit 1; fi; \
	fi
	@# pgRouting for bench/bench_routing.py (and `contextmap db ensure` creates the extension where it is
	@# installed); the app never needs it. Debian names the package after the server's major version.
	@major="$$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)"; \
	if [ -n "$$major" ] && ! dpkg -s "postgresql-$$major-pgrouting" >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$$major-pgrouting"; \
	  else echo "Optional: pgRouting for bench/bench_routing.py is Debian's postgresql-$$major-pgrouting."; fi; \
	fi

run: $(STAMP) $(VENDOR_STAMP) $(WEB_CSS)
	$(BIN)/contextmap up

lint: $(STAMP)
	$(BIN)/ruff check app geo tests migrations bench
	$(BIN)/mypy app geo
	$(BIN)/lint-imports --no-cache  # the layers of DESIGN.md: contracts in pyproject.toml

# pytest exits 5 when it collects no tests: that means the suite went missing, so it fails here too.
test: $(STAMP) $(VENDOR_STAMP) $(AXE_STAMP) $(WEB_CSS) $(DIFFERENTIAL_STAMP) system-packages lint
	$(BIN)/contextmap db ensure --no-migrate >/dev/null
	set +e; $(BIN)/pytest -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; exit $$status

# The same database, API and security suites on Citus (issue 19): a coordinator and two workers as
# project-local clusters under .data/citus/ (Citus is built from ../shared/vendor when it is not installed),
# every test database distributed by organisation. The clusters are stopped afterwards.
CITUS_SUITES ?= tests/db tests/api tests/security tests/citus
test-citus: $(STAMP) $(VENDOR_STAMP) $(WEB_CSS)
	set -a; eval "$$(tests/citus/cluster.sh start)"; set +a; \
	trap 'tests/citus/cluster.sh stop' EXIT; \
	$(BIN)/contextmap db ensure >/dev/null || exit 1; \
	set +e; CONTEXTMAP_EXPECT_CITUS=1 $(BIN)/pytest -q -p no:cacheprovider $(CITUS_SUITES); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; exit $$status

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) app/static/node_modules tests/browser/node_modules tests/differential/node_modules .pytest_cache .mypy_cache .ruff_cache test-artifacts
