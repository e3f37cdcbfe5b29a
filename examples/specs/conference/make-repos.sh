#!/bin/sh
# Makes the git repositories this spec collects from, out of this Sigil checkout (committed
# files only, so no build output):
#   $CONFERENCE_GIT/django-charm.git    the Django charm (charms/django)
#   $CONFERENCE_GIT/conference-app.git  the demo app (charms/django/app)
#   $CONFERENCE_GIT/haproxy-charm.git, postgresql-charm.git, memcached-charm.git
# In real use these are the charms' and the app's own repositories.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sigil_root=$(cd "$here/../../.." && pwd)
dest=${CONFERENCE_GIT:-/srv/git}
mkdir -p "$dest"
make_repo() { # make_repo NAME PATH-IN-CHECKOUT
  repo="$dest/$1"
  rm -rf "$repo"
  mkdir -p "$repo"
  strip=$(echo "$2" | awk -F/ '{print NF}')
  git -C "$sigil_root" archive HEAD "$2" | tar -x -C "$repo" --strip-components="$strip"
  git -C "$repo" init -q -b main
  git -C "$repo" add -A
  git -C "$repo" -c user.name=sigil -c user.email=sigil@localhost commit -qm "$1 from the Sigil checkout"
  echo "$repo at $(git -C "$repo" rev-parse --short HEAD)"
}
make_repo django-charm.git charms/django
make_repo conference-app.git charms/django/app
for charm in haproxy postgresql memcached; do make_repo "$charm-charm.git" "charms/$charm"; done
