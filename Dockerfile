# contextmap service image. Migrations run before the server starts (entrypoint), as a non-root user.
FROM node:20-bookworm-slim AS vendor
WORKDIR /src/app/static
COPY app/static/package.json app/static/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
# The web application's stylesheet: GOV.UK Frontend compiled with our settings (as `make vendor` does).
COPY app/web/scss /src/app/web/scss
RUN mkdir -p build && node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps \
      --silence-deprecation=import,global-builtin --load-path=node_modules /src/app/web/scss/contextmap.scss build/contextmap.css

# The wheel, with the vendored map assets and the migrations inside it (pyproject.toml, setup.py).
FROM python:3.11-slim-bookworm AS wheel
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY app ./app
COPY geo ./geo
COPY migrations ./migrations
COPY --from=vendor /src/app/static/node_modules ./app/static/node_modules
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CONTEXTMAP_ENVIRONMENT=production CONTEXTMAP_HOST=0.0.0.0 CONTEXTMAP_PORT=8000
# Pango and HarfBuzz-subset: WeasyPrint draws the panel pack PDF (issue 17).
RUN apt-get update && apt-get install -y --no-install-recommends curl \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 contextmap
WORKDIR /srv/contextmap
# A normal install: the package finds its migrations and assets beside its code, no source tree needed
# (tests/test_wheel.py installs the same wheel outside the checkout, migrates and serves a map page).
COPY --from=wheel /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
# The governance documents served at /about/* and /accessibility (docs/accessibility-results.json).
COPY docs ./docs
USER contextmap
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/healthz | grep -q '"status":"ok"' || exit 1
# SIGTERM drains: uvicorn stops accepting, lets in-flight requests finish for up to
# CONTEXTMAP_SHUTDOWN_GRACE_SECONDS (25 s, above the 20 s statement timeout), then exits. Give the
# container longer than that before SIGKILL: `docker stop -t 30`, or stop_grace_period in compose.
STOPSIGNAL SIGTERM
ENV CONTEXTMAP_SHUTDOWN_GRACE_SECONDS=25
# The same commands as `make run`, minus the demo: migrate, then serve.
ENTRYPOINT ["sh", "-c", "contextmap migrate && exec contextmap serve"]
