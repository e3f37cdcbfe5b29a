#!/bin/bash
set -eu
hook=$(basename "$0")
case "$hook" in
  reverseproxy-relation-changed)
    echo "$JUJU_REMOTE_UNIT busy=$(relation-get busy) at=$(date +%s%N)" >> "$JUJU_CHARM_DIR/../drains.log"
    ;;
esac
status-set active "balancing"
