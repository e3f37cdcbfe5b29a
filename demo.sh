#!/bin/bash
# Brings up a controller and a demo stack: a source publishing a token to two sinks.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
sigil=./bin/sigil
if ! $sigil controllers --format json | grep -q '"demo"'; then
  $sigil bootstrap --provider local-process demo
fi
$sigil switch demo:default
if ! $sigil status --format json | grep -q '"source"'; then
  $sigil deploy ./tests/charms/source -n 1 --config token=abc
  $sigil deploy ./tests/charms/sink sink -n 2
  $sigil integrate source sink
fi
echo "==> waiting for the stack to settle"
for _ in $(seq 1 60); do
  if $sigil status --format json | grep -q 'token=abc app-token=abc'; then break; fi
  sleep 0.5
done
$sigil status --relations
