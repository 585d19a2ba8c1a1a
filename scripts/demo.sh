#!/usr/bin/env bash
# The main job on this machine: the platform core (real control plane, operator, landing page) with sample packs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$NKP_ROOT"
exec npx tsx scripts/demo.ts "$@"
