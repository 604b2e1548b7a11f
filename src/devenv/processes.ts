import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logPath, statePaths } from './paths.ts';

/**
 * Background processes of the local environment, tracked by PID file. A record keeps the PID and the
 * process's start time, so a PID the kernel has since given to another program is never signalled:
 * `down` stops exactly what `up` started, by PID, never by name.
 */
export interface ProcessRecord {
  name: string;
  pid: number;
  /** Kernel start time (clock ticks since boot, /proc/<pid>/stat field 22); null where /proc is absent. */
  startTicks: string | null;
  command: string;
  args: string[];
  startedAt: string;
}

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const recordPath = (name: string) => join(statePaths.pids, `${name}.json`);

function startTicksOf(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: the fields after it start past the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * True while a process with this PID exists and is not a zombie (an exited child that its new parent has not
 * reaped yet still answers signal 0).
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!existsSync('/proc')) return true;
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** True while the recorded process (the same one, not a reused PID) is running. */
export function isRunning(record: ProcessRecord): boolean {
  if (!isProcessAlive(record.pid)) return false;
  return record.startTicks === null || startTicksOf(record.pid) === record.startTicks;
}

export function readRecord(name: string): ProcessRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(name), 'utf8')) as ProcessRecord;
  } catch {
    return undefined;
  }
}

export function listRecords(): ProcessRecord[] {
  if (!existsSync(statePaths.pids)) return [];
  return readdirSync(statePaths.pids)
    .filter((file) => file.endsWith('.json'))
    .map((file) => readRecord(file.slice(0, -'.json'.length)))
    .filter((record): record is ProcessRecord => record !== undefined);
}

/** Starts a detached process (its own process group) whose output goes to .devenv/logs/<name>.log. */
export function startProcess(spec: ProcessSpec): ProcessRecord {
  mkdirSync(statePaths.logs, { recursive: true });
  mkdirSync(statePaths.pids, { recursive: true });
  const out = openSync(logPath(spec.name), 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', out, out],
    });
    if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${spec.command}`);
    child.unref();
    const record: ProcessRecord = {
      name: spec.name,
      pid: child.pid,
      startTicks: startTicksOf(child.pid),
      command: spec.command,
      args: spec.args,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(recordPath(spec.name), JSON.stringify(record, null, 2));
    return record;
  } finally {
    closeSync(out);
  }
}

/** SIGTERM to the process group, SIGKILL after the grace period; removes the record. */
export async function stopProcess(record: ProcessRecord, graceMs = 10_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-record.pid, sig);
    } catch {
      try {
        process.kill(record.pid, sig);
      } catch {
        // already gone
      }
    }
  };
  if (isRunning(record)) {
    signal('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isRunning(record) && Date.now() < deadline) await sleep(100);
    if (isRunning(record)) signal('SIGKILL');
    while (isRunning(record)) await sleep(50);
  }
  rmSync(recordPath(record.name), { force: true });
}

/** The last lines of a component's log, for error messages. */
export function logTail(name: string, lines = 15): string {
  try {
    return readFileSync(logPath(name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Resolves when the port can be bound on the host, i.e. nobody else listens there. */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
