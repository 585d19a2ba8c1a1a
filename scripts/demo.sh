#!/usr/bin/env bash
# The main job on this machine: a real `pulumi up` of the platform (embedded stack) onto the embedded cluster, then
# the operator, the landing page and sample packs on it (see scripts/demo.ts; --serve keeps it running).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$NKP_ROOT"
exec npx tsx scripts/demo.ts "$@"
