/**
 * Regenerate the `config:` block of Pulumi.yaml from CONFIG_KEYS (stacks/config.ts); everything above the block
 * is kept as it is. Run after changing a key: `npx tsx stacks/write-project-config.ts`. A unit test fails while
 * Pulumi.yaml and the schema disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { projectConfigBlock } from './config.js';
import { STACKS_DIR } from './stack-files.js';

const HEADER = `# Project-level config schema (Pulumi checks types before the program runs; stacks/config.ts validates every value
# and the cross-key rules at program start). Derived from CONFIG_KEYS in stacks/config.ts by
# stacks/write-project-config.ts: test/unit/stacks checks it.
# Lists of objects (awsNodeGroups, hetznerWorkerPools) cannot be typed here; stacks/config.ts validates them.
# Secrets are not declared here (only some stacks need each); see SECRET_KEYS in stacks/config.ts.
`;

/** Pure: Pulumi.yaml text with its config block replaced. */
export function withConfigBlock(projectYaml: string): string {
    const lines = projectYaml.split('\n');
    const start = lines.findIndex((l) => l.startsWith('# Project-level config schema') || l.startsWith('config:'));
    const head = (start >= 0 ? lines.slice(0, start) : lines).join('\n').trimEnd();
    return `${head}\n${HEADER}${stringify({ config: projectConfigBlock() }, { lineWidth: 0 })}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
    const file = join(STACKS_DIR, '..', 'Pulumi.yaml');
    writeFileSync(file, withConfigBlock(readFileSync(file, 'utf8')));
    console.log(`wrote the config block of ${file}`);
}
