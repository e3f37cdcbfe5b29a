#!/bin/bash
# Installs what Sigil needs on a fresh Debian 12 machine and builds it. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v cc >/dev/null || need_apt+=(gcc libc6-dev)
# The lxc provider (the default as root on Linux): containers, the base-image builder, the apt cache.
if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ]; then
  command -v lxc-start >/dev/null || need_apt+=(lxc)
  command -v mmdebstrap >/dev/null || need_apt+=(mmdebstrap)
  command -v apt-cacher-ng >/dev/null || [ -x /usr/sbin/apt-cacher-ng ] || need_apt+=(apt-cacher-ng)
  command -v ssh >/dev/null || need_apt+=(openssh-client)
  # The web GUI's browser tests and benchmarks drive Debian's chromium (playwright-core).
  command -v chromium >/dev/null || need_apt+=(chromium)
  # sigil chaos partition writes nftables rules on Sigil's own bridges.
  command -v nft >/dev/null || [ -x /usr/sbin/nft ] || need_apt+=(nftables)
fi
# Specs and `sigil collect` fetch git sources; the Django charm's tests run its settings module.
command -v git >/dev/null || need_apt+=(git)
command -v python3 >/dev/null || need_apt+=(python3)
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v bash >/dev/null || need_apt+=(bash)
# Backups off the machine go to restic repositories; e2e/operations runs prosody (XMPP) on loopback.
command -v restic >/dev/null || need_apt+=(restic)
command -v prosody >/dev/null || [ -x /usr/bin/prosody ] || need_apt+=(prosody)
# e2e/tls.test.ts checks the controller's certificate with openssl s_client.
command -v openssl >/dev/null || need_apt+=(openssl)
# sigil debug-hooks opens a tmux session on the unit's machine (this host for local-process);
# e2e/debug-hooks and the agent's debug tests drive a real tmux. flock comes with util-linux.
command -v tmux >/dev/null || need_apt+=(tmux)
command -v flock >/dev/null || need_apt+=(util-linux)
# The PostgreSQL store's tests start their own throwaway cluster from Debian's server binaries.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "ERROR missing packages: ${need_apt[*]}" >&2
    echo "hint: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
  echo "==> installing ${need_apt[*]}"
  # Debian's postgresql would create and start a system cluster; the tests need only the binaries.
  if [[ " ${need_apt[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${need_apt[@]}" >/dev/null
fi

# better-sqlite3 has no prebuilt binary reachable from here (they are on GitHub), so npm compiles
# it: about 2.5 of the 3 minutes of an install. The first compile on a machine is kept as a
# local prebuild, which its installer (prebuild-install) uses on the next install instead.
prebuilds="${XDG_CACHE_HOME:-$HOME/.cache}/sigil/prebuilds"
export npm_config_better_sqlite3_local_prebuilds="$prebuilds"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing npm packages"
  # `npm install` (not `npm ci`): npm omits optional platform packages from the lock file
  # here, which `npm ci` then rejects as out of sync.
  npm install --no-fund --no-audit --loglevel=error
fi
sqlite_version=$(node -p 'require("better-sqlite3/package.json").version')
sqlite_prebuild="$prebuilds/better-sqlite3-v$sqlite_version-node-v$(node -p process.versions.modules)-$(node -p 'process.platform + "-" + process.arch').tar.gz"
if [ ! -e "$sqlite_prebuild" ] && [ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ]; then
  mkdir -p "$prebuilds"
  tar -czf "$sqlite_prebuild.tmp" -C node_modules/better-sqlite3 build/Release/better_sqlite3.node
  mv "$sqlite_prebuild.tmp" "$sqlite_prebuild"
fi
echo "==> building"
npm run --silent build
