/**
 * One node agent as a process inside its node's namespace: started with `nsenter --net=…` (never `ip netns
 * exec`, whose private mount namespace would hide the pod namespaces the agent creates), detached in a process
 * group of its own, restarted with back-off when it dies, stopped with SIGTERM then SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

import { netnsPath } from './names.ts';

export interface AgentProcessSpec {
  /** For log lines: "agent node-a", "door". */
  label: string;
  ns: string;
  /** The program and arguments to run inside the namespace. */
  argv: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

export interface SupervisedProcess {
  readonly pid: () => number | undefined;
  stop(graceMs?: number): Promise<void>;
}

const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30_000;

const signalGroup = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
};

/** Starts the process and keeps it running until stop(). */
export function superviseInNamespace(spec: AgentProcessSpec, log: (line: string) => void): SupervisedProcess {
  let child: ChildProcess | undefined;
  let stopping = false;
  let backoff = RESTART_MIN_MS;
  let timer: NodeJS.Timeout | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = (): void => {
    mkdirSync(dirname(spec.logFile), { recursive: true });
    const out = openSync(spec.logFile, 'a');
    const startedAt = Date.now();
    try {
      child = spawn('nsenter', [`--net=${netnsPath(spec.ns)}`, '--', ...spec.argv], {
        detached: true,
        stdio: ['ignore', out, out],
        env: spec.env ?? process.env,
      });
    } finally {
      closeSync(out);
    }
    const current = child;
    exited = new Promise((resolve) => {
      current.once('error', (error) => {
        log(`${spec.label}: cannot start (${error.message})`);
        resolve();
      });
      current.once('exit', (code, signal) => {
        resolve();
        if (stopping) return;
        // A run that lasted a while resets the back-off: only a crash loop slows down.
        if (Date.now() - startedAt > RESTART_MAX_MS) backoff = RESTART_MIN_MS;
        log(`${spec.label}: exited (${signal ?? `code ${code}`}); restarting in ${backoff / 1000}s (log: ${spec.logFile})`);
        timer = setTimeout(start, backoff);
        backoff = Math.min(backoff * 2, RESTART_MAX_MS);
      });
    });
  };
  start();

  return {
    pid: () => child?.pid,
    stop: async (graceMs = 10_000) => {
      stopping = true;
      clearTimeout(timer);
      const pid = child?.pid;
      if (pid === undefined || child?.exitCode !== null || child.signalCode !== null) return;
      signalGroup(pid, 'SIGTERM');
      const killer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}
