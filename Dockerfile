# contextmap service image. Migrations run before the server starts (entrypoint), as a non-root user.
FROM node:20-bookworm-slim AS vendor
WORKDIR /src/app/static
COPY app/static/package.json app/static/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

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
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 contextmap
WORKDIR /srv/contextmap
# A normal install: the package finds its migrations and assets beside its code, no source tree needed
# (tests/test_wheel.py installs the same wheel outside the checkout, migrates and serves a map page).
COPY --from=wheel /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
USER contextmap
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/healthz | grep -q '"status":"ok"' || exit 1
# The same commands as `make run`, minus the demo: migrate, then serve.
ENTRYPOINT ["sh", "-c", "contextmap migrate && exec contextmap serve"]
