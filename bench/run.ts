/**
 * `npm run bench [-- --size smoke|default] [--only name,...]`: runs the benchmark scenarios in order against
 * the local environment (`npm run up`), writes bench/results/<ISO time>.json and prints a markdown table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { removeDemo } from '../src/cli/demo.ts';
import { status, stopController } from '../src/devenv/environment.ts';
import { stateDir } from '../src/devenv/paths.ts';
import { connect, installNetworkGuard } from '../src/testing/index.ts';
import { removeLeftovers } from './lib/leftovers.ts';
import { markdownTable } from './lib/report.ts';
import { closeOpenScenario, runBench } from './lib/runner.ts';
import type { SizeName } from './lib/types.ts';
import { scenarios } from './scenarios/index.ts';

// From the host's namespace only loopback is reachable (src/testing/network-guard.ts).
installNetworkGuard();

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: 'default' },
    only: { type: 'string' },
    cleanup: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    `usage: npm run bench [-- --size smoke|default] [--only ${scenarios.map((s) => s.name).join(',')}]\n` +
      '       npm run bench -- --cleanup    remove what killed runs left behind (bench-* namespaces, nodes, AWS resources)\n',
  );
  process.exit(0);
}
if (values.size !== 'smoke' && values.size !== 'default') {
  process.stderr.write(`--size: must be smoke or default, got ${JSON.stringify(values.size)}\n`);
  process.exit(2);
}
const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
const unknown = only?.filter((name) => !scenarios.some((s) => s.name === name)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`--only: unknown scenario ${unknown.join(', ')} (known: ${scenarios.map((s) => s.name).join(', ')})\n`);
  process.exit(2);
}
const selected = only ? scenarios.filter((s) => only.includes(s.name)) : scenarios;

const log = (line: string) => process.stderr.write(`${line}\n`);
if (values.cleanup) {
  const env = connect(stateDir);
  await removeLeftovers(env, log);
  env.close();
  process.exit(0);
}
const components = await status();
const missing = components.filter((c) => c.name !== 'controller' && c.state !== 'up');
if (missing.length > 0) {
  log(`the local environment is not up (${missing.map((c) => `${c.name}: ${c.state}`).join(', ')}): run 'npm run up' first`);
  process.exit(2);
}
// As the integration tests do: the environment's own controller and its demo would act on our Services too.
if (components.some((c) => c.name === 'controller' && c.state !== 'down')) {
  await removeDemo(log);
  await stopController(log);
  log("stopped the environment's controller for the run; 'npm run up' starts it again");
}

// Interrupted: clean up the scenario that was running, then go.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up the running scenario`);
    void closeOpenScenario().finally(() => process.exit(130));
  });
}
const result = await runBench(selected, values.size as SizeName, log);
const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${result.startedAt.replace(/:/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`\n${markdownTable(result)}\n\nresults: ${file}\n`);
process.exitCode = result.scenarios.every((s) => s.ok) ? 0 : 1;
