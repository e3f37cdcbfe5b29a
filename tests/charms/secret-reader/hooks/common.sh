#!/bin/bash
set -eu
hook=$(basename "$0")
echo "$hook secret=${JUJU_SECRET_ID:-} label=${JUJU_SECRET_LABEL:-}" >> "$JUJU_CHARM_DIR/../hooks.log"
digest() { printf '%s' "$1" | sha256sum | cut -c1-16; }
case "$hook" in
  creds-relation-changed)
    id=$(relation-get --app secret-id "$JUJU_REMOTE_APP")
    [ -n "$id" ] || exit 0
    pw=$(secret-get "$id" password --label shared-creds)
    echo "read password $pw"
    status-set active "password sha $(digest "$pw")"
    ;;
  secret-changed)
    pw=$(secret-get "$JUJU_SECRET_ID" password --refresh)
    echo "new password $pw"
    status-set active "password sha $(digest "$pw")"
    ;;
  config-changed)
    extra=$(config-get extra-secret)
    if [ -n "$extra" ]; then
      pw=$(secret-get "$extra" password)
      echo "extra password $pw"
      digest "$pw" > "$JUJU_CHARM_DIR/../extra.sha"
    fi
    ;;
  start)
    [ -n "$(relation-ids creds)" ] || status-set blocked "waiting for creds"
    ;;
esac
