#!/usr/bin/env bash
# The Debian packages the tests start for real (no mocks), installed when missing:
#   test     prometheus (promtool and the server: test/deploy/prometheus.test.ts),
#            redis-server (test/store, test/cluster start their own on loopback),
#            kubectl from kubernetes-client (test/cluster/k8s.test.ts renders deploy/k8s);
#   interop  the Python packages of the cross-language checks (system Python) and pip,
#            setuptools, mypy for the Python client (clients/python).
# `npm test` runs it for `test` (npm's pretest), .ci/run for both. Installing needs root (as on
# the project's machines); otherwise it names what is missing and stops.
set -euo pipefail
groups=("$@"); [ ${#groups[@]} -eq 0 ] && groups=(test)
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
needpy() { /usr/bin/python3 -c "import $1" >/dev/null 2>&1 || missing+=("$2"); }
for g in "${groups[@]}"; do
  case "$g" in
    test)
      need promtool prometheus; need prometheus prometheus; need redis-server redis-server
      need kubectl kubernetes-client ;;
    interop)
      needpy msgpack python3-msgpack; needpy websockets python3-websockets; needpy numpy python3-numpy
      needpy scipy python3-scipy; needpy ot python3-pot; needpy pip python3-pip; needpy setuptools python3-setuptools
      need mypy mypy ;;
    *) echo "system-deps: unknown group '$g' (test, interop)" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" != "0" ]; then
  echo "the tests need Debian packages that are missing: $pkgs(run as root, or: sudo apt-get install $pkgs)" >&2
  exit 1
fi
echo "system-deps: installing $pkgs"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
