#!/bin/bash
# Runs the whole test suite: unit tests and end-to-end tests against real controllers.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
# The tests reach nothing but this machine. A NODE_EXTRA_CA_CERTS bundle (set for npm behind a
# proxy) is parsed by every Node process as it starts, about 90 ms each here, and a run starts
# some 2,500 of them (CLI calls, controllers, charms' hooks): the tests go without it.
unset NODE_EXTRA_CA_CERTS
# The type checks and the lint need no controller: they run beside the tests' start (the
# shared controllers' bootstrap and the base image build, mostly waiting on downloads and
# dpkg), and fail the run as surely as a test does. Their output comes after the tests'.
checks=$(mktemp -d)
trap 'rm -rf "$checks"' EXIT
echo "==> type check and lint (beside the tests; their report follows the tests')"
( npx tsc -p tsconfig.json --noEmit && npx tsc -p packages/gui --noEmit && npx eslint --max-warnings 0 ) > "$checks/out" 2>&1 &
pid=$!
status=0
npx vitest run "$@" || status=$?
if wait "$pid"; then
  echo "==> type check and lint: clean"
else
  cat "$checks/out"
  echo "ERROR the type check or the lint failed (above)" >&2
  echo "hint: run npx tsc -p tsconfig.json --noEmit, npx tsc -p packages/gui --noEmit and npx eslint --max-warnings 0, and fix what they name" >&2
  status=1
fi
exit "$status"
