#!/bin/bash
# Brings up a controller and a demo stack (bundles/demo.yaml): a source publishing a token
# to two sinks, each with a subordinate logger. Safe to run again: it converges.
set -euo pipefail
cd "$(dirname "$0")"
./scripts/setup.sh
sigil=./bin/sigil
if ! $sigil controllers --format json | grep -q '"demo"'; then
  $sigil bootstrap demo   # lxc containers as root on Linux, else local-process
else
  $sigil start-controller demo
fi
$sigil switch demo:default
$sigil deploy bundles/demo.yaml
$sigil wait --timeout 5m
$sigil status --relations
echo
echo "Try: $sigil run source/0 echo value=hi; $sigil config source token=xyz; $sigil debug-log --replay --no-tail"
