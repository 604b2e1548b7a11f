/**
 * The system commands the local VPC runs (ADR 0011): `ip` and namespaces, sysctl, and iptables for kube-proxy
 * (iptables mode) inside node namespaces, nftables and conntrack for the NLB data plane in the router namespace. `setup` installs the Debian packages that are missing with apt-get,
 * as the Go builds and the emulator's venv are installed; where it cannot (not root, no apt-get), the error
 * names the packages and the command to run.
 */
import { spawnSync } from 'node:child_process';

/** Debian package → the commands of it we run. */
export const SYSTEM_PACKAGES: Record<string, string[]> = {
  iproute2: ['ip'],
  'util-linux': ['nsenter', 'unshare'],
  procps: ['sysctl'],
  iptables: ['iptables', 'iptables-save', 'iptables-restore'],
  // The NLB data plane (ADR 0012): its forwarding rules, and ending a drained target's flows.
  nftables: ['nft'],
  conntrack: ['conntrack'],
};

const PATH_WITH_SBIN = `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin`;

const hasCommand = (command: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${command}`], { env: { ...process.env, PATH: PATH_WITH_SBIN }, stdio: 'ignore' }).status === 0;

/** Packages some of whose commands are missing. */
export const missingPackages = (has: (command: string) => boolean = hasCommand): string[] =>
  Object.entries(SYSTEM_PACKAGES)
    .filter(([, commands]) => commands.some((command) => !has(command)))
    .map(([name]) => name);

export function ensureSystemPackages(log: (line: string) => void): void {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !hasCommand('apt-get')) {
    throw new Error(
      `the local VPC needs the system package(s) ${missing.join(', ')} (commands: ${missing.flatMap((name) => SYSTEM_PACKAGES[name] ?? []).join(', ')}), ` +
        `and setup cannot install them here (${isRoot ? 'no apt-get' : 'not root'}). Install them, e.g.: sudo sh -c '${command}'`,
    );
  }
  log(`installing system packages: ${missing.join(' ')} (${command})`);
  const result = spawnSync('sh', ['-c', command], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    const tail = `${result.stdout}${result.stderr}`.trimEnd().split('\n').slice(-10).join('\n');
    throw new Error(`installing ${missing.join(', ')} failed: ${command} exited with ${result.status}\n${tail}`);
  }
  const still = missingPackages();
  if (still.length > 0) throw new Error(`after '${command}', still missing: ${still.join(', ')}`);
}
