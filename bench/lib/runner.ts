import { execFileSync } from 'node:child_process';
import { cpus, freemem, loadavg, release, totalmem, platform, arch } from 'node:os';
import { readFileSync } from 'node:fs';
import { stateDir, statePaths } from '../../src/devenv/paths.ts';
import { connect, type TestEnvironment } from '../../src/testing/index.ts';
import { openContext } from './context.ts';
import type { Figures, Scenario, SizeName } from './types.ts';

export interface ScenarioResult {
  name: string;
  description: string;
  size: Record<string, number>;
  ok: boolean;
  error?: string;
  /** Wall time of the scenario including setup and cleanup. */
  durationMs: number;
  figures: Figures;
  cleanupErrors: string[];
}

export interface BenchResult {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  size: SizeName;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; freeMemoryBytesAtStart: number; loadAverageAtStart: number[]; platform: string; release: string; arch: string };
  node: string;
  git: { commit: string; dirty: boolean };
  sizes: Record<string, Record<string, number>>;
  scenarios: ScenarioResult[];
}

function git(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim().length > 0;
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

let openNow: { close(): Promise<string[]> } | undefined;

/** Cleans up the scenario running now, if any (for a run interrupted by a signal). */
export async function closeOpenScenario(): Promise<string[]> {
  const open = openNow;
  openNow = undefined;
  return open ? open.close() : [];
}

/** Runs the scenarios in order against the local environment, each in a world of its own, and collects every figure. */
export async function runBench(scenarios: Scenario[], size: SizeName, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<BenchResult> {
  const started = Date.now();
  // Re-read before each scenario: an environment recreated meanwhile (`npm run down && npm run up`) has a new VPC.
  const awsJson = () => readFileSync(statePaths.awsJson, 'utf8');
  let seen = awsJson();
  let env: TestEnvironment = connect(stateDir);
  const result: BenchResult = {
    startedAt: new Date(started).toISOString(),
    finishedAt: '',
    durationMs: 0,
    size,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryBytes: totalmem(),
      freeMemoryBytesAtStart: freemem(),
      loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
      platform: platform(),
      release: release(),
      arch: arch(),
    },
    node: process.version,
    git: git(),
    sizes: Object.fromEntries(scenarios.map((s) => [s.name, s.sizes[size]])),
    scenarios: [],
  };
  try {
    for (const scenario of scenarios) {
      if (awsJson() !== seen) {
        log('the environment was recreated (aws.json changed): reconnecting');
        env.close();
        env = connect(stateDir);
        seen = awsJson();
      }
      const sizeValues = scenario.sizes[size];
      const t0 = performance.now();
      log(`[${scenario.name}] ${JSON.stringify(sizeValues)}: ${scenario.description}`);
      const entry: ScenarioResult = { name: scenario.name, description: scenario.description, size: sizeValues, ok: false, durationMs: 0, figures: {}, cleanupErrors: [] };
      let open;
      try {
        open = await openContext(env, scenario.name, size, log);
        openNow = open;
        entry.figures = await scenario.run(open.ctx, sizeValues);
        entry.ok = true;
      } catch (error) {
        entry.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
        log(`[${scenario.name}] FAILED: ${entry.error}`);
      } finally {
        if (open && openNow === open) {
          openNow = undefined;
          log(`[${scenario.name}] cleaning up`);
          entry.cleanupErrors = await open.close();
          for (const e of entry.cleanupErrors) log(`[${scenario.name}] cleanup error: ${e}`);
        }
        entry.durationMs = Math.round(performance.now() - t0);
        log(`[${scenario.name}] ${entry.ok ? 'done' : 'failed'} in ${(entry.durationMs / 1000).toFixed(1)} s`);
      }
      result.scenarios.push(entry);
    }
  } finally {
    env.close();
  }
  result.finishedAt = new Date().toISOString();
  result.durationMs = Date.now() - started;
  return result;
}
