#!/usr/bin/env bash
# Installs what dlq-reprocessor needs to build and test. Safe to run twice:
# each step checks first and does nothing when its part is already there.
set -euo pipefail

MOTO_VERSION="5.2.1"
OSMEM_VERSION="0.1.6"
SELENIUM_VERSION="4.51.0"
OPENAPI_SPEC_VALIDATOR_VERSION="0.9.0"
SCHEMATHESIS_VERSION="4.32.5"
OPENAPI_PYTHON_CLIENT_VERSION="0.29.1"

say() { printf 'setup: %s\n' "$*"; }

# libsqlite3 headers and pkg-config entry, for the CSQLite shim.
if ! pkg-config --exists sqlite3 2>/dev/null; then
    say "installing libsqlite3-dev and pkg-config"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libsqlite3-dev pkg-config
else
    say "libsqlite3-dev present ($(pkg-config --modversion sqlite3))"
fi

# Headless Chromium and its WebDriver, for the console's browser tests.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    say "installing chromium and chromium-driver"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver
else
    say "chromium present ($(chromium --version 2>/dev/null | head -n 1))"
fi

# PostgreSQL's server (initdb, pg_ctl, psql), for the shared store's tests: they start
# throwaway servers of their own, so the package's default cluster is not used.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! getent passwd postgres >/dev/null; then
    say "installing postgresql"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql
else
    say "postgresql present ($(ls -d /usr/lib/postgresql/*/bin/initdb | head -n 1))"
fi

# promtool (Debian's prometheus package), for the alert rules' checks and unit tests in scripts/test.sh.
if ! command -v promtool >/dev/null 2>&1; then
    say "installing prometheus (for promtool)"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus
else
    say "promtool present ($(promtool --version 2>&1 | head -n 1))"
fi

PYTHON="${PYTHON:-python3}"
installed_version() { "$PYTHON" -m pip show "$1" 2>/dev/null | sed -n 's/^Version: //p'; }

# moto[server]: the AWS peer (SQS, DynamoDB, Streams, Secrets Manager, IAM).
if [ "$(installed_version moto)" != "$MOTO_VERSION" ] || ! "$PYTHON" -c "import flask, flask_cors" 2>/dev/null; then
    say "installing moto[server]==$MOTO_VERSION"
    "$PYTHON" -m pip install -q "moto[server]==$MOTO_VERSION"
else
    say "moto $MOTO_VERSION present"
fi

# osmem-server: the OpenSearch peer.
if [ "$(installed_version osmem-server)" != "$OSMEM_VERSION" ]; then
    say "installing osmem-server==$OSMEM_VERSION"
    "$PYTHON" -m pip install -q "osmem-server==$OSMEM_VERSION"
else
    say "osmem-server $OSMEM_VERSION present"
fi
# selenium: drives Chromium in the console's browser tests.
if [ "$(installed_version selenium)" != "$SELENIUM_VERSION" ]; then
    say "installing selenium==$SELENIUM_VERSION"
    "$PYTHON" -m pip install -q "selenium==$SELENIUM_VERSION"
else
    say "selenium $SELENIUM_VERSION present"
fi
# The API's contract checks (scripts/api-conformance.sh): the OpenAPI validator, the
# Schemathesis fuzzer and a client generator.
for pinned in "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION" "schemathesis==$SCHEMATHESIS_VERSION" \
    "openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION"; do
    if [ "$(installed_version "${pinned%%==*}")" != "${pinned##*==}" ]; then
        say "installing $pinned"
        "$PYTHON" -m pip install -q "$pinned"
    else
        say "${pinned%%==*} ${pinned##*==} present"
    fi
done
if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi

say "osmem-server binary: $("$PYTHON" -c 'import osmem_server; print(osmem_server.resolve_binary())')"
say "moto_server: $("$PYTHON" -c 'import moto; print(moto.__version__)')"
