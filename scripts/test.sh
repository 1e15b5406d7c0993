#!/usr/bin/env bash
# Runs the whole test suite: unit tests and the integration tests against
# moto and osmem-server, which the tests start themselves on free ports, and the
# console's browser flows in headless Chromium (screenshots in .build/console-screenshots/),
# the shipped alert rules with promtool (check and unit tests), then the API's conformance to
# docs/openapi.yaml (scripts/api-conformance.sh).
# Run scripts/setup.sh once first (CI's .ci/run does).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/validate.sh
promtool check rules deploy/prometheus/alerts.yml
promtool test rules deploy/prometheus/alerts_test.yml
swift build --build-tests "$@"
swift test --skip-build --parallel "$@"
scripts/api-conformance.sh
