import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// Users import `cloud-provider-localstack/testing` from the published package: build it as `npm pack` would
// (prepack runs the build) and import it by name the way a user's test does, in a plain Node process.
describe('the package', () => {
  it('builds, and its testing entry point imports by package name with every helper', () => {
    const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { encoding: 'utf8', timeout: 240_000 });
    expect(build.status, build.stdout + build.stderr).toBe(0);
    const probe = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "const t = await import('cloud-provider-localstack/testing'); const m = await import('cloud-provider-localstack'); console.log(JSON.stringify({ testing: Object.keys(t).sort(), main: Object.keys(m).sort() }))"],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(probe.status, probe.stderr).toBe(0);
    const exported = JSON.parse(probe.stdout) as { testing: string[]; main: string[] };
    expect(exported.testing).toEqual(expect.arrayContaining(['connect', 'createTestNamespace', 'waitForLoadBalancer', 'healthyTargets', 'podTargets', 'nodeTargets', 'waitFor']));
    expect(exported.main).toEqual(expect.arrayContaining(['Manager', 'buildModel', 'plan', 'AwsCallCounter']));
  });
});
