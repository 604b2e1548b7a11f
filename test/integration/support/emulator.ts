import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { ensureEmulatorVenv } from '../../../src/devenv/toolchain.ts';
import { waitFor } from '../../../src/testing/index.ts';

export interface OwnEmulator {
  endpoint: string;
  /** What it printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * An emulator of the test's own (the environment's program: moto's server with localstack/cpl_emulator) on a
 * free 127.0.0.1 port, with `env` added: for tests that need a mode the shared one does not run in, or that
 * must not meet the environment's data plane.
 */
export async function startOwnEmulator(env: Record<string, string> = {}): Promise<OwnEmulator> {
  const python = await ensureEmulatorVenv(() => {});
  const port = await freePort();
  const child: ChildProcess = spawn(python.python, ['-m', 'cpl_emulator', '-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, CPL_EMULATOR_HEALTH: '', ...env, PYTHONPATH: join(repoRoot, 'localstack') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the emulator exited (${child.exitCode}): ${output}`);
        return (await fetch(`${endpoint}/moto-api/`)).ok;
      },
      { description: `an emulator of our own on ${endpoint}`, timeoutMs: 60_000 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, output: () => output, stop };
}
