#!/usr/bin/env bash
# Builds and installs Citus from the vendored upstream source (../shared/vendor or $CITUS_VENDOR_DIR) when the
# server's PostgreSQL major has no citus.so yet. Citus is not in the package registries the machines reach.
# Installing puts citus.so and citus.control into the system PostgreSQL directories; it does NOT touch any
# running server's settings (nothing is added to the shared server's shared_preload_libraries).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
vendor="${CITUS_VENDOR_DIR:-}"
if [ -z "$vendor" ]; then
  for candidate in "$root/../shared/vendor" "$root/../../shared/vendor" /work/shared/vendor; do
    if [ -f "$candidate/citus-13.2.2.tar.gz" ]; then vendor="$candidate"; break; fi
  done
fi
major="${PG_MAJOR:-$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)}"
if [ -z "$major" ]; then echo "build_citus: no PostgreSQL under /etc/postgresql" >&2; exit 1; fi
libdir="/usr/lib/postgresql/$major/lib"
if [ -f "$libdir/citus.so" ] && [ -f "/usr/share/postgresql/$major/extension/citus.control" ]; then
  echo "citus is installed for PostgreSQL $major"; exit 0
fi
if [ -z "$vendor" ] || [ ! -f "$vendor/citus-13.2.2.tar.gz" ]; then
  echo "build_citus: citus-13.2.2.tar.gz not found (set CITUS_VENDOR_DIR)" >&2; exit 1
fi
packages=(build-essential "postgresql-server-dev-$major" libcurl4-openssl-dev liblz4-dev libzstd-dev
  libkrb5-dev libssl-dev libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev autoconf flex bison)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "build_citus: install these Debian packages first: ${missing[*]}" >&2; exit 1
  fi
fi
build="${CITUS_BUILD_DIR:-$root/.data/citus-build}"
rm -rf "$build" && mkdir -p "$build"
tar xzf "$vendor/citus-13.2.2.tar.gz" -C "$build"
src="$(find "$build" -maxdepth 1 -mindepth 1 -type d | head -1)"
cd "$src"
# Debian's PostgreSQL 15.20 exports have_createdb_privilege(); Citus 13.2.2 defines its own copy.
if [ -f "$vendor/citus-pg15.20.patch" ] && ! grep -q citus_have_createdb_privilege src/include/pg_version_compat.h; then
  patch -p0 < "$vendor/citus-pg15.20.patch"
fi
./configure PG_CONFIG="/usr/lib/postgresql/$major/bin/pg_config" >/dev/null
make -s -j"$(nproc)" >/dev/null
make -s install >/dev/null
echo "citus built and installed for PostgreSQL $major"
