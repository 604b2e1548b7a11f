/**
 * The door into the local VPC from tests (ADR 0011): run a command on the bastion, carry TCP from 127.0.0.1 to
 * a VPC address, or GET a URL inside the VPC. The VPC's addresses are reachable only inside its network
 * namespaces; these helpers go through the bastion, never through a route on the host.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

import { bastionExecArgv, forwardThroughDoor, httpGetThroughDoor, type Forward, type VpcHttpResponse } from '../devenv/vpc/door.ts';
import { envIdOf, nodeNs } from '../devenv/vpc/names.ts';

export type { Forward, VpcHttpResponse } from '../devenv/vpc/door.ts';

/** The environment's state folder: the one `connect()` uses by default. */
const defaultStateDir = (): string => process.env.CPL_STATE_DIR ?? join(process.cwd(), '.devenv');

export interface VpcOptions {
  /** The environment's state folder (default $CPL_STATE_DIR or ./.devenv). */
  stateDir?: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `args` on the VPC's bastion host (`cloud-provider-localstack vpc exec -- ARGS`); never rejects on exit code. */
export function vpcExec(args: readonly string[], options: VpcOptions & { timeoutMs?: number } = {}): Promise<ExecResult> {
  return run(bastionExecArgv(options.stateDir ?? defaultStateDir(), args), options.timeoutMs);
}

/**
 * Runs `args` in a networked node's namespace (`ip netns exec`): a second client in the VPC, at the node's
 * address, e.g. to see a source the NLB's security groups do not let in. Never rejects on exit code.
 */
export function nodeExec(nodeName: string, args: readonly string[], options: VpcOptions & { timeoutMs?: number } = {}): Promise<ExecResult> {
  return run(['ip', 'netns', 'exec', nodeNs(nodeName, envIdOf(resolve(options.stateDir ?? defaultStateDir()))), ...args], options.timeoutMs);
}

function run([file, ...rest]: readonly string[], timeoutMs = 30_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file!, rest, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/** Listens on 127.0.0.1 (a free port) and carries each connection to address:port in the VPC. */
export function forwardToVpc(address: string, port: number, options: VpcOptions & { localPort?: number } = {}): Promise<Forward> {
  return forwardThroughDoor(options.stateDir ?? defaultStateDir(), `${address}:${port}`, options.localPort ?? 0);
}

/** GET an http:// URL whose host is a VPC address, from the bastion (e.g. a pod's `http://10.0.64.12:8080/hostname`). */
export function httpGetInVpc(url: string, options: VpcOptions & { timeoutMs?: number } = {}): Promise<VpcHttpResponse> {
  return httpGetThroughDoor(options.stateDir ?? defaultStateDir(), url, options.timeoutMs);
}
