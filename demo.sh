#!/bin/bash
# Brings up a controller and a real demo stack. As root on Linux (LXC machines):
# bundles/wordpress.yaml — HAProxy, exposed, in front of two WordPress units sharing a
# MariaDB database and a memcached cache. Elsewhere (machines are host processes, so
# nothing may be installed): bundles/demo.yaml, test charms only. Safe to run again: it
# converges.
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
if [ "$(id -u)" = 0 ] && [ "$(uname -s)" = Linux ]; then bundle=bundles/wordpress.yaml; else bundle=bundles/demo.yaml; fi
$sigil deploy "$bundle" --timeout 20m
$sigil status --relations
echo
if [ "$bundle" = bundles/wordpress.yaml ]; then
  port=$($sigil status --format json | node -e '
    const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const p = s.applications.haproxy.units["haproxy/0"]["published-ports"] ?? [];
    const m = /^\*:(\d+)->80\/tcp$/.exec(p.find((x) => x.endsWith("->80/tcp")) ?? "");
    process.stdout.write(m ? m[1] : "");')
  echo "WordPress answers through HAProxy at http://127.0.0.1:${port:-?}/"
  echo "Admin login: $sigil run wordpress/0 get-admin-password"
  echo "Try: $sigil add-unit wordpress; $sigil config wordpress blog-title='Hello'; $sigil debug-log --replay --no-tail"
else
  echo "Try: $sigil run source/0 echo value=hi; $sigil config source token=xyz; $sigil debug-log --replay --no-tail"
fi
