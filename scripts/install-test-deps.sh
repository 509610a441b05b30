#!/usr/bin/env bash
# Installs the Debian packages the system tests need (nginx, redis-server, postgresql, chromium,
# curl, openssl, gcc, prlimit)
# when they are missing. Idempotent: a second run installs nothing.
set -euo pipefail

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/curl ] || need+=(curl)
[ -x /usr/bin/openssl ] || need+=(openssl)
# gcc and the kernel headers build the seccomp helper of test/restricted-system-calls.test.ts.
{ [ -x /usr/bin/gcc ] && [ -f /usr/include/linux/seccomp.h ]; } || need+=(gcc libc6-dev)
# prlimit cuts the server's descriptors in test/descriptor-exhaustion.test.ts.
command -v prlimit >/dev/null 2>&1 || need+=(util-linux)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-test-deps: nginx, redis-server, postgresql, chromium, curl, openssl, gcc and prlimit are present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-test-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Packages start no services here: tests start their own throwaway servers on loopback ports.
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "install-test-deps: done"
