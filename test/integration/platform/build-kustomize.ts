// Builds (once per machine) the kustomize the platform tests render with, at the version Argo CD bundles, and
// prints its path: `npx tsx test/integration/platform/build-kustomize.ts` (for setup scripts; the tests build it
// on first use otherwise).
import { argoCdKustomizeVersion, kustomizeBinary } from './kustomize.js';

const t0 = Date.now();
const bin = kustomizeBinary();
process.stderr.write(`[build-kustomize] kustomize ${argoCdKustomizeVersion()} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
process.stdout.write(`${bin}\n`);
