#!/usr/bin/env bash
# System packages the platform and its reference checks use (Debian/Ubuntu). Idempotent.
#   redis-server           the queue and pub/sub broker when REDIS_URL is unset
#   python3-sklearn …      reference implementations for golden fixtures and `npm run bench`
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
if [ "${OMICSELECTOR_SKIP_REFERENCE:-0}" != 1 ]; then
  /usr/bin/python3 -c 'import sklearn, scipy' 2>/dev/null || need+=(python3-sklearn python3-scipy)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "Missing: ${need[*]}. Run: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
