import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/devenv/paths.ts';
import { ensureEmulatorVenv } from '../../src/devenv/toolchain.ts';

// The emulator plugin's own tests (localstack/tests, Python unittest against moto in-process), run with the
// emulator's venv so the suite fails when a plugin no longer patches the moto it runs with.
describe('emulator plugin (localstack/cpl_emulator)', () => {
  it('its Python tests pass against the pinned moto', async () => {
    const venv = await ensureEmulatorVenv(() => undefined);
    const localstack = join(repoRoot, 'localstack');
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(venv.python, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], { cwd: localstack, env: { ...process.env, PYTHONPATH: localstack } });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('close', (code) => resolve({ code, output }));
    });
    expect(result.output).toMatch(/^Ran \d+ tests? in/m);
    expect(result.code, result.output.split('\n').slice(-40).join('\n')).toBe(0);
  }, 300_000);
});
