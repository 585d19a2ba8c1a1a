/**
 * The release workflow (.github/workflows/release.yml) and the committed stacks agree: every stack pins the
 * operator and landing images the workflow pushes (<repository>:<version>) and the tag it pushes as
 * nkp:platformRevision (v<version>), for one version; the workflow builds the repository's Dockerfiles and tags
 * only after both images are pushed. (GitHub Actions cannot run here: the workflow is read, not executed.)
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readStackFile, STACKS, STACKS_DIR } from '../../../stacks/stack-files.js';

const REPO = join(STACKS_DIR, '..');
interface Workflow {
    on: { workflow_dispatch: { inputs: { version: { required: boolean } } } };
    env: { OPERATOR_IMAGE: string; LANDING_IMAGE: string };
    jobs: {
        images: { strategy: { matrix: { include: { image: string; dockerfile: string }[] } }; steps: { uses?: string; with?: Record<string, unknown>; run?: string }[] };
        tag: { needs: string | string[]; steps: { run?: string }[] };
    };
}
const wf = parse(readFileSync(join(REPO, '.github/workflows/release.yml'), 'utf8')) as Workflow;

describe('release: the workflow and the stacks\' pins agree', () => {
    it('the workflow pushes both images as <repository>:<version>, from the repository\'s Dockerfiles, and tags v<version> only after them', () => {
        assert.equal(wf.on.workflow_dispatch.inputs.version.required, true);
        const matrix = wf.jobs.images.strategy.matrix.include;
        assert.deepEqual(matrix.map((m) => m.image).sort(), ['landing', 'operator']);
        for (const m of matrix) assert.ok(existsSync(join(REPO, m.dockerfile)), m.dockerfile);
        const push = wf.jobs.images.steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
        assert.equal(push.with!['push'], true);
        assert.equal(push.with!['tags'], "${{ matrix.image == 'operator' && env.OPERATOR_IMAGE || env.LANDING_IMAGE }}:${{ inputs.version }}");
        assert.deepEqual([wf.jobs.tag.needs].flat(), ['images']);
        assert.ok(wf.jobs.tag.steps.some((s) => s.run?.includes('git tag "v${{ inputs.version }}"')), 'tags v<version>');
    });

    for (const stack of [...STACKS, 'embedded']) {
        it(`${stack}: operatorImage, landingImage and platformRevision are one release of the workflow`, () => {
            const { values } = readStackFile(stack);
            const revision = values['platformRevision']!;
            const m = /^v(.+)$/.exec(revision);
            assert.ok(m, `platformRevision ${revision} is a release tag v<version>`);
            const version = m[1]!;
            assert.equal(values['operatorImage'], `${wf.env.OPERATOR_IMAGE}:${version}`);
            assert.equal(values['landingImage'], `${wf.env.LANDING_IMAGE}:${version}`);
        });
    }
});
