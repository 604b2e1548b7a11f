import type { Command } from 'commander';
import { down, setup, status, up, type Log } from '../devenv/environment.ts';
import { statePaths } from '../devenv/paths.ts';
import { runDemo } from './demo.ts';

const log: Log = (line) => process.stderr.write(`${line}\n`);

/** `setup`, `up`, `down`, `status`: the local environment (the npm scripts of the same names call these). */
export function registerEnvironmentCommands(program: Command): void {
  program
    .command('setup')
    .description('build or find everything the local environment runs (control plane from Go modules, moto venv), start nothing')
    .action(async () => {
      const tools = await setup(log);
      for (const [name, built] of Object.entries(tools.go)) log(`${name} ${built.version}: ${built.dir}`);
      log(`emulator venv: ${tools.python.dir}`);
    });

  program
    .command('up')
    .description('bring up etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, the AWS emulator and the controller, then show a Service getting its NLB (idempotent)')
    .option('--no-controller', 'do not start the controller (nor the demo)')
    .option('--no-demo', 'do not create the demo Service')
    .action(async (options: { controller: boolean; demo: boolean }) => {
      const result = await up(log, { controller: options.controller });
      if (result.started.length === 0) log('already up: nothing to start');
      const { aws } = result;
      process.stdout.write(
        [
          '',
          'cloud-provider-localstack local environment is up.',
          `  kubeconfig : ${statePaths.kubeconfig}`,
          `  kubectl    : ${statePaths.bin}/kubectl (the server's version)`,
          `  AWS        : ${aws.endpoint} (region ${aws.region}, credentials ${aws.accessKeyId}/${aws.secretAccessKey}); all of it in ${statePaths.awsEnv}`,
          `  VPC        : ${aws.vpcId}`,
          `  subnets    : public ${aws.publicSubnets.map((s) => `${s.id} (${s.zone})`).join(', ')}`,
          `               private ${aws.privateSubnets.map((s) => `${s.id} (${s.zone})`).join(', ')}`,
          `  logs       : ${statePaths.logs}/`,
          '',
          'Try:',
          `  export KUBECONFIG=${statePaths.kubeconfig} PATH=${statePaths.bin}:$PATH; kubectl get --raw /readyz?verbose`,
          `  set -a; . ${statePaths.awsEnv}; set +a; aws ec2 describe-subnets --filters Name=vpc-id,Values=${aws.vpcId}`,
          'Stop it with: npm run down',
          '',
        ].join('\n'),
      );
      if (options.controller && options.demo) {
        const tree = await runDemo(log);
        process.stdout.write(
          [
            'The controller is running (logs: .devenv/logs/controller.log). The demo Service demo/web got its NLB:',
            '',
            tree,
            'Flip it to IP targets (pod addresses from the ENI pool) and look again:',
            '  kubectl -n demo annotate service web service.beta.kubernetes.io/aws-load-balancer-nlb-target-type=ip --overwrite',
            '  npm run cli -- describe service demo/web --local',
            '',
          ].join('\n'),
        );
      }
    });

  program
    .command('down')
    .description('stop exactly the processes `up` started (by PID) and remove the environment state')
    .action(async () => {
      const stopped = await down(log);
      log(stopped.length ? `down: stopped ${stopped.join(', ')}` : 'down: nothing was running');
    });

  program
    .command('status')
    .description('say which components of the local environment are up')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const components = await status();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(components, null, 2)}\n`);
      } else {
        for (const c of components) process.stdout.write(`${c.name.padEnd(24)} ${c.state.padEnd(10)} ${c.pid ?? ''}\n`);
      }
      if (components.some((c) => c.state !== 'up')) process.exitCode = 3;
    });
}
