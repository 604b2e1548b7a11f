import type { TestProject } from 'vitest/node';
import { down, status, up } from '../../src/devenv/environment.ts';

/**
 * Brings the local environment up when it is not up already, and takes it down afterwards only if this run
 * started it (set CPL_KEEP_UP=1 to keep it for the next run). Tests isolate themselves by namespace and by
 * AWS tags, so a developer's running environment can be shared.
 */
export default async function setup(_project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`[environment] ${line}\n`);
  const before = await status();
  const wasUp = before.every((component) => component.state === 'up');
  const result = await up(log);
  log(`up: started ${result.started.join(', ') || 'nothing'}; already up: ${result.alreadyUp.join(', ') || 'nothing'}`);
  return async () => {
    if (wasUp || process.env.CPL_KEEP_UP === '1') return;
    await down(log);
  };
}
