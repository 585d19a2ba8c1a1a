#!/usr/bin/env bash
# Runs every benchmark in bench/ one after the other and prints their figures.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$NKP_ROOT"
for b in bench/*.ts; do
  echo "=== $b"
  npx tsx "$b"
done
