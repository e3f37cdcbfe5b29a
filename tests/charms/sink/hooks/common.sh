#!/bin/bash
set -eu
hook=$(basename "$0")
echo "$hook remote=${JUJU_REMOTE_UNIT:-} app=${JUJU_REMOTE_APP:-} rel=${JUJU_RELATION_ID:-} departing=${JUJU_DEPARTING_UNIT:-}" >> "$JUJU_CHARM_DIR/../hooks.log"
if [ "$(config-get fail-hook)" = "$hook" ] && [ ! -e "$JUJU_CHARM_DIR/../recovered" ]; then
  echo "sink: failing $hook as configured" >&2
  exit 1
fi
case "$hook" in
  input-relation-changed)
    token=$(relation-get token)
    apptoken=$(relation-get --app app-token "$JUJU_REMOTE_APP")
    if [ -n "$token" ]; then status-set active "token=$token app-token=$apptoken"; fi
    ;;
  input-relation-departed)
    status-set waiting "source ${JUJU_DEPARTING_UNIT} departed"
    ;;
  input-relation-broken)
    status-set blocked "no source"
    ;;
  cluster-relation-joined)
    relation-set peer-of="$JUJU_UNIT_NAME"
    ;;
  start)
    if [ -z "$(relation-ids input)" ]; then status-set blocked "waiting for a source"; fi
    ;;
esac
