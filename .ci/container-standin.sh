#!/usr/bin/env bash
# Builds and runs the Dockerfile where no container registry is reachable (this sandbox: no
# docker.io, cgroups that crun refuses): a stand-in for node:<version>-<suite>-slim made from
# debootstrap + the official Node binary from npm's `node` package + npm + user node (uid 1000),
# then `buildah bud --isolation chroot --format docker`, then the image's server started, its
# HEALTHCHECK command run, one request sent, SIGTERM. Root, network to deb.debian.org and npm.
#   .ci/container-standin.sh 20.20.2 bookworm     (the Dockerfile's default base)
#   .ci/container-standin.sh 22.23.3 trixie       (Node 22: the @btc-vision uWS copy, glibc 2.41)
# Not part of .ci/run (minutes of debootstrap); what it found is in the issue note and README.
set -euo pipefail
NODE=${1:-20.20.2}; SUITE=${2:-bookworm}; PORT=${PORT:-27880}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
apt-get install -y -qq buildah debootstrap >/dev/null
debootstrap --variant=minbase "$SUITE" "$work/rootfs" http://deb.debian.org/debian >/dev/null
(cd "$work" && npm install --no-audit --no-fund --silent "node@$NODE")

ctr=$(buildah from scratch); mnt=$(buildah mount "$ctr")
tar -C "$work/rootfs" -cf - . | tar -C "$mnt" -xf -
mkdir -p "$mnt/usr/local/bin" "$mnt/usr/local/lib/node_modules" "$mnt/etc/ssl/certs"
cp "$work/node_modules/node/bin/node" "$mnt/usr/local/bin/node"
cp -a "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" "$mnt/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
# a TLS-intercepting proxy's CA, when there is one (NODE_EXTRA_CA_CERTS on this host)
[ -n "${NODE_EXTRA_CA_CERTS:-}" ] && cp "$NODE_EXTRA_CA_CERTS" "$mnt/etc/ssl/certs/ca-certificates.crt"
buildah run --isolation chroot "$ctr" -- sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --create-home node'
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  ${NODE_EXTRA_CA_CERTS:+--env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt} "$ctr"
base="localhost/node-standin:$NODE-$SUITE"
buildah commit -q "$ctr" "$base" >/dev/null; buildah rm "$ctr" >/dev/null

buildah bud --isolation chroot --format docker --build-arg "NODE_IMAGE=$base" -t "localhost/holoserve:$NODE-$SUITE" .
ctr=$(buildah from "localhost/holoserve:$NODE-$SUITE")
buildah run --isolation chroot --env "PORT=$PORT" "$ctr" -- node dist/src/cli/main.js serve > "$work/server.log" 2>&1 &
stop() { pid=$(grep -o '"pid":[0-9]*' "$work/server.log" | head -1 | cut -d: -f2); [ -n "$pid" ] && kill -TERM "$pid" && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; }
trap stop EXIT
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
hc=$(buildah inspect --type image "localhost/holoserve:$NODE-$SUITE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Docker"]["config"]["Healthcheck"]["Test"][-1])')
buildah run --isolation chroot --env "PORT=$PORT" "$ctr" -- node -e "$hc" && echo "HEALTHCHECK: healthy"
curl -s -o /dev/null -w 'GET /v1 over HTTP: %{http_code}\n' "http://127.0.0.1:$PORT/v1"
buildah run --isolation chroot "$ctr" -- sh -c 'id -un; ls -l /data; du -sh /app/node_modules'
stop; trap - EXIT
grep -o '"uws":"[^"]*"\|"msg":"ready on[^"]*"\|"msg":"stopped"' "$work/server.log"
buildah rm "$ctr" >/dev/null; rm -rf "$work"
