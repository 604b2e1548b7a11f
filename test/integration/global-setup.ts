import type { TestProject } from 'vitest/node';
import { removeDemo } from '../../src/cli/demo.ts';
import { down, status, stopController, up } from '../../src/devenv/environment.ts';

/**
 * Brings the local environment up when it is not up already (or starts what is missing), and takes it down
 * afterwards only if nothing of it was running before (set CPL_KEEP_UP=1 to keep it anyway). Tests isolate
 * themselves by namespace and by AWS tags, so a developer's running environment can be shared.
 */
export default async function setup(_project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[environment] ${line}\n`);
  const before = await status();
  const wasUp = before.some((component) => component.state !== 'down');
  const result = await up(log, { controller: false });
  // Every test runs controllers of its own (own cluster names); the environment's controller and its demo
  // would act on the same nodes and pods. `npm run up` brings both back.
  if (before.some((component) => component.name === 'controller' && component.state !== 'down')) {
    await removeDemo(log);
    await stopController(log);
  }
  log(`up: started ${result.started.join(', ') || 'nothing'}; already up: ${result.alreadyUp.join(', ') || 'nothing'}`);
  return async () => {
    if (wasUp || process.env.CPL_KEEP_UP === '1') return;
    await down(log);
  };
}
