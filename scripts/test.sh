#!/usr/bin/env bash
# Runs every test (unit + integration against the real control plane, Keycloak and Chromium) with Node 22.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$NKP_ROOT"
npm run --silent lint
npm test -- "$@"
