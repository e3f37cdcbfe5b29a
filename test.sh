#!/bin/bash
# Runs the whole test suite: unit tests and end-to-end tests against real controllers.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
npx tsc -p tsconfig.json --noEmit
npx tsc -p packages/gui --noEmit
npx eslint --max-warnings 0
npx vitest run "$@"
