// Writes operator/crd/nebariapp.yaml from the NebariApp schema. Run: npx tsx scripts/gen-crd.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_PATH, nebariAppCrdYaml } from '../operator/src/api/crd.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, CRD_PATH);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, nebariAppCrdYaml());
console.log(`wrote ${CRD_PATH}`);
