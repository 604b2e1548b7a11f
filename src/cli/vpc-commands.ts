import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { statePaths } from '../devenv/paths.ts';
import { bastionExecArgv, forwardThroughDoor, type Forward } from '../devenv/vpc/door.ts';
import { forwardService } from './forward-service.ts';

/**
 * `vpc exec` and `forward`: the door into the local VPC (ADR 0011). The VPC exists only in the local
 * environment (its state folder: .devenv/ or $CPL_STATE_DIR); `--local` says so explicitly, as other commands do.
 */
export function registerVpcCommands(program: Command): void {
  const vpc = program.command('vpc').description("the local environment's VPC (network namespaces; see docs/adr/0011-local-vpc.md)");

  vpc
    .command('exec')
    .description("run a command on the VPC's bastion host (a namespace in the first public subnet, with the VPC's resolver)")
    .usage('[--local] -- CMD [ARGS...]')
    .option('--local', "the local environment's VPC (.devenv/ or $CPL_STATE_DIR; the only one there is)")
    .argument('<command...>', 'the command and its arguments (put -- before it)')
    .action(async (command: string[]) => {
      const [file, ...args] = bastionExecArgv(statePaths.root, command);
      const child = spawn(file!, args, { stdio: 'inherit' });
      const code = await new Promise<number>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (status, signal) => resolve(status ?? (signal ? 128 : 1)));
      });
      process.exit(code);
    });

  program
    .command('forward')
    .description(
      'carry TCP from 127.0.0.1 on this host into the local VPC (prints the local port; Ctrl-C stops):\n' +
        '  forward ADDRESS:PORT [LOCAL_PORT]              to an address in the VPC, e.g. a pod 10.0.64.12:8080\n' +
        "  forward service NS/NAME [LOCAL_PORT:]PORT      to a Service's NLB listener, as kubectl port-forward does for a pod",
    )
    .usage('ADDRESS:PORT [LOCAL_PORT] | service NS/NAME [LOCAL_PORT:]PORT')
    .argument('<target>', "ADDRESS:PORT, or 'service'")
    .argument('[args...]', 'LOCAL_PORT; or NS/NAME and [LOCAL_PORT:]PORT after service')
    .option('--local', "the local environment's VPC (.devenv/ or $CPL_STATE_DIR; the only one there is)")
    .action(async (target: string, rest: string[]) => {
      const onError = (error: Error) => process.stderr.write(`forward: ${error.message}\n`);
      let forward: Forward;
      let what: string;
      if (target === 'service') {
        const [key, spec, extra] = rest;
        if (!key || !spec || extra !== undefined) throw new Error('usage: forward service NS/NAME [LOCAL_PORT:]PORT');
        const forwarded = await forwardService(statePaths.root, key, spec, onError);
        forward = forwarded;
        what = `Service ${key}'s NLB ${forwarded.target}`;
      } else {
        const [localPortText, extra] = rest;
        if (extra !== undefined) throw new Error('usage: forward ADDRESS:PORT [LOCAL_PORT]');
        const localPort = localPortText === undefined ? 0 : Number(localPortText);
        if (localPortText !== undefined && (!/^\d+$/.test(localPortText) || localPort < 1 || localPort > 65535)) {
          throw new Error(`LOCAL_PORT ${JSON.stringify(localPortText)} is not a TCP port (1-65535)`);
        }
        forward = await forwardThroughDoor(statePaths.root, target, localPort, onError);
        what = target;
      }
      process.stdout.write(`${forward.port}\n`);
      process.stderr.write(`forwarding 127.0.0.1:${forward.port} → ${what} (through the VPC's bastion); Ctrl-C stops\n`);
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await forward.close();
      process.exit(0);
    });
}
