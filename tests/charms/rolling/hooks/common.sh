#!/bin/bash
set -eu
hook=$(basename "$0")
rev=$(cat "$JUJU_CHARM_DIR/REVISION")
echo "$hook rev=$rev at=$(date +%s%N)" >> "$JUJU_CHARM_DIR/../hooks.log"
case "$hook" in
  website-relation-joined|config-changed|upgrade-charm)
    for id in $(relation-ids website); do relation-set -r "$id" hostname="$(unit-get private-address)" port=80; done
    ;;
esac
status-set active "rev=$rev"
