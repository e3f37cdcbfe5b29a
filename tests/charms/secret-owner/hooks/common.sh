#!/bin/bash
# The password never touches disk: it lives in the secret, and in this hook's variables.
set -eu
hook=$(basename "$0")
echo "$hook secret=${JUJU_SECRET_ID:-} label=${JUJU_SECRET_LABEL:-} revision=${JUJU_SECRET_REVISION:-}" >> "$JUJU_CHARM_DIR/../hooks.log"
[ "$(is-leader)" = True ] || exit 0
new_password() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }
id=$(secret-ids | head -n1)
case "$hook" in
  leader-elected|config-changed)
    generation=$(config-get generation)
    if [ -z "$id" ]; then
      pw=$(new_password)
      id=$(secret-add --label creds --description "generated password" password="$pw" generation="$generation")
      echo "generated password $pw for generation $generation"
    elif [ "$(secret-get "$id" generation)" != "$generation" ]; then
      pw=$(new_password)
      secret-set "$id" password="$pw" generation="$generation"
      echo "rotated to password $pw for generation $generation"
    fi
    for rel in $(relation-ids creds); do
      secret-grant "$id" -r "$rel"
      relation-set -r "$rel" --app secret-id="$id"
    done
    status-set active "sharing $(secret-info-get "$id" --format json | tr -d '\n' | sed 's/.*"revision":\([0-9]*\).*/revision \1/')"
    ;;
  creds-relation-joined|creds-relation-created)
    if [ -n "$id" ]; then
      secret-grant "$id" -r "$JUJU_RELATION_ID"
      relation-set --app secret-id="$id"
    fi
    ;;
  secret-remove)
    secret-remove "$JUJU_SECRET_ID" --revision "$JUJU_SECRET_REVISION"
    ;;
esac
