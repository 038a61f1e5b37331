#!/usr/bin/env bash
# Installs the Node.js proxies cutover is measured against into bench/.peers
# (not part of the product, never a dependency of it). Does nothing when they
# are already there. Used by bench/proxy.sh and bench/instructions.sh.
#
#   bash bench/peers/install-npm-peers.sh
set -euo pipefail
PEERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.peers"
if [[ -f "$PEERS_DIR/node_modules/http-proxy/package.json" \
   && -f "$PEERS_DIR/node_modules/@fastify/http-proxy/package.json" \
   && -f "$PEERS_DIR/node_modules/fastify/package.json" ]]; then
  exit 0
fi
if [[ "${SKIP_INSTALL:-0}" == 1 ]]; then
  echo "npm peers missing in bench/.peers and SKIP_INSTALL=1" >&2
  exit 1
fi
echo "[bench] installing npm peers into bench/.peers" >&2
mkdir -p "$PEERS_DIR"
cat >"$PEERS_DIR/package.json" <<'JSON'
{
  "name": "cutover-bench-peers",
  "private": true,
  "description": "Proxies cutover is benchmarked against. Written by bench/peers/install-npm-peers.sh; not part of the product.",
  "dependencies": {
    "@fastify/http-proxy": "^11.3.0",
    "fastify": "^5.6.0",
    "http-proxy": "^1.18.1"
  }
}
JSON
(cd "$PEERS_DIR" && npm install --no-audit --no-fund --loglevel=error >&2)
