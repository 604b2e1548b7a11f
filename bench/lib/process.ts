import { BENCH_NODE_LABEL } from './nodes.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../src/devenv/paths.ts';
import { waitFor } from '../../src/testing/index.ts';
import type { BenchContext } from './types.ts';

export interface ControllerProcess {
  pid: number;
  /** Base URL of its /metrics. */
  url: string;
  /** The last lines it wrote (stdout and stderr), for error messages. */
  tail(): string;
  metrics(): Promise<Map<string, number>>;
  /** From /proc/<pid>/status: resident set now and its peak, in bytes. */
  memory(): { rssBytes: number; peakRssBytes: number };
  /**
   * A full garbage collection in the process, through its inspector (HeapProfiler.collectGarbage), so the heap
   * read next is what is live rather than what the collector has not got to yet.
   */
  collectGarbage(): Promise<void>;
  stop(): Promise<void>;
}

/** Prometheus text → { 'name{labels}': value }. */
export function parseMetrics(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

/** Sum of the series of a metric whose labels include every `match` (e.g. `operation="RegisterTargets"`). */
export function sumSeries(series: Map<string, number>, metric: string, ...match: string[]): number {
  let sum = 0;
  for (const [key, value] of series) if ((key === metric || key.startsWith(`${metric}{`)) && match.every((m) => key.includes(m))) sum += value;
  return sum;
}

/**
 * The controller as its own process, as it is deployed: `node src/cli/main.ts run --local` under the
 * scenario's cluster name, /metrics on a free port. Stopped (SIGTERM, then SIGKILL) at cleanup.
 */
export async function startControllerProcess(ctx: BenchContext, args: string[]): Promise<ControllerProcess> {
  const lines: string[] = [];
  let url: string | undefined;
  let inspector: string | undefined;
  let started = false;
  const child: ChildProcess = spawn(
    process.execPath,
    // The inspector on a free loopback port, for collectGarbage(); its URL comes on stderr.
    ['--inspect=127.0.0.1:0', 'src/cli/main.ts', 'run', '--local', '--cluster-name', ctx.cluster, '--watch-namespace', ctx.namespace, '--node-selector', `${BENCH_NODE_LABEL}=${ctx.cluster}`, '--metrics-address', '127.0.0.1:0', '--health-address', 'off', '--log-level', 'info', ...args],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const onLine = (line: string) => {
    lines.push(line);
    if (lines.length > 200) lines.shift();
    url ??= /"url":"([^"]+)"/.exec(line)?.[1];
    inspector ??= /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
    if (line.includes('"msg":"started"')) started = true;
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  };
  ctx.defer('controllers', stop);
  const tail = () => lines.slice(-20).join('\n');
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`controller process exited with ${child.exitCode}:\n${tail()}`);
      return started && url && inspector;
    },
    { description: 'the controller process started', timeoutMs: 60_000, intervalMs: 100 },
  ).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${tail()}`);
  });
  return {
    pid: child.pid!,
    url: url!,
    tail,
    async metrics() {
      return parseMetrics(await (await fetch(`${url}/metrics`)).text());
    },
    memory() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
      return { rssBytes: kib('VmRSS') * 1024, peakRssBytes: kib('VmHWM') * 1024 };
    },
    collectGarbage: () => inspectorCall(inspector!, 'HeapProfiler.collectGarbage'),
    stop,
  };
}

/** One Chrome DevTools Protocol call over the inspector's WebSocket (Node's own WebSocket client). */
async function inspectorCall(url: string, method: string): Promise<void> {
  const socket = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector ${method}: no answer in 60 s`)), 60_000);
      socket.addEventListener('open', () => socket.send(JSON.stringify({ id: 1, method })));
      socket.addEventListener('message', (event) => {
        const reply = JSON.parse(String(event.data)) as { id?: number; error?: { message: string } };
        if (reply.id !== 1) return;
        clearTimeout(timer);
        if (reply.error) reject(new Error(`inspector ${method}: ${reply.error.message}`));
        else resolve();
      });
      socket.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new Error(`inspector ${method}: cannot connect to ${url}`));
      });
    });
  } finally {
    socket.close();
  }
}
