/** Runs a system command of the data plane (ip, nft, conntrack) with optional stdin; errors name it with stderr. */
import { execFile } from 'node:child_process';

export const runCommand = (command: readonly string[], input?: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const [file, ...args] = command;
    if (file === undefined) throw new Error('empty command');
    const child = execFile(file, args, { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    // A command that exits before reading its input (an error) closes the pipe: its exit status tells.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
