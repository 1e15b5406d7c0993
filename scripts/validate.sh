#!/usr/bin/env bash
# Checks formatting with swift-format (shipped with the toolchain) against
# .swift-format. `scripts/validate.sh --fix` rewrites files in place.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--fix" ]; then
    swift format format --in-place --parallel --recursive Package.swift Sources Tests
else
    swift format lint --strict --parallel --recursive Package.swift Sources Tests
fi
# Every relative link in README.md, docs/ and deploy/ resolves (files and heading anchors).
python3 scripts/check_links.py
