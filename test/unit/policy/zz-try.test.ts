import { recordProgram, startPolicyPack, mandatory } from '/work/main/test/unit/policy/engine.js';
describe('try', function () {
    this.timeout(300000);
    it('records and runs', async () => {
        const t0 = Date.now();
        const pack = await startPolicyPack();
        console.log('pack start ms', Date.now() - t0, pack.info.map((p) => `${p.name}:${p.level}`).join(' '));
        const { buildPlatform } = await import('/work/main/stacks/platform.js');
        const { platformConfigForStack } = await import('/work/main/stacks/stack-files.js');
        for (const stack of ['aws-prod', 'aws-staging', 'hetzner', 'local']) {
            const res = await recordProgram(stack, () => { buildPlatform(platformConfigForStack(stack)); });
            await pack.configure({});
            const ds = await pack.run(res);
            console.log(stack, res.length, 'resources;', [...new Set(res.map((r) => r.type))].length, 'types');
            for (const d of ds) console.log(' ', d.level, d.policyName, d.message.split('\n').slice(1).join(' | '));
        }
        await pack.stop();
    });
});
