import { Option, type Command } from 'commander';
import { EniPoolStore } from '../controllers/ipam/crd.ts';
import { wantsLoadBalancer, stackIdOf } from '../core/model.ts';
import { describeAction } from '../core/plan.ts';
import { readSeedTopology, seedNetwork } from '../devenv/seed.ts';
import { createAwsClients } from '../cloud/clients.ts';
import { describeService, renderServiceTree } from './describe.ts';
import { inspector, type ConnectionFlags as InspectorFlags } from './inspector.ts';
import { FlagError, lbcDefaultOptions } from './run-command.ts';

/** Flags every command that talks to a cluster and AWS shares with `run` (same names, same env twins). */
function connectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--kubeconfig <path>', 'kubeconfig file').env('KUBECONFIG'))
    .addOption(new Option('--cluster-name <name>', 'cluster name (the tag on every AWS resource we own)').env('CPL_CLUSTER_NAME'))
    .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION'))
    .addOption(new Option('--aws-endpoint <url>', 'AWS endpoint URL').env('AWS_ENDPOINT_URL'))
    .addOption(new Option('--vpc-id <id>', "the cluster's VPC").env('CPL_VPC_ID'))
    .option('--local', "use the local environment's kubeconfig and AWS settings (.devenv/)")
    .addOption(new Option('-o, --output <format>', 'text or json').choices(['text', 'json']).default('text'));
}

type ConnectionFlags = InspectorFlags & { output: 'text' | 'json' };

function parseKey(raw: string): string {
  const match = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(raw);
  if (!match) throw new FlagError(`service: expected NAMESPACE/NAME, got ${JSON.stringify(raw)}`);
  return raw;
}

const print = (flags: ConnectionFlags, json: unknown, text: () => string) => process.stdout.write(flags.output === 'json' ? `${JSON.stringify(json, null, 2)}\n` : text());

export function registerInspectCommands(program: Command): void {
  const describe = program.command('describe').description('show what exists in AWS for a Kubernetes object');
  connectionOptions(describe.command('service').argument('<namespace/name>', 'the Service').description('Service → NLB → listeners → target groups → targets, with health')).action(
    async (raw: string, flags: ConnectionFlags) => {
      const key = parseKey(raw);
      const manager = await inspector(flags);
      try {
        const described = await describeService(manager, key);
        print(flags, described, () => renderServiceTree(described));
      } finally {
        await manager.stop();
      }
    },
  );

  // The LBC's default flags too, so the plan is the one a controller run with them would make.
  lbcDefaultOptions(
    connectionOptions(program.command('plan').argument('[namespace/name]', 'one Service; every LoadBalancer Service when absent').description('the AWS actions the controller would take now, without taking them')),
  ).action(
    async (raw: string | undefined, flags: ConnectionFlags) => {
      const manager = await inspector(flags);
      try {
        const keys = raw ? [parseKey(raw)] : manager.informers.services.list().filter(wantsLoadBalancer).map(stackIdOf).sort();
        const plans: { service: string; actions: string[]; waiting: string[]; warnings: string[] }[] = [];
        for (const key of keys) {
          const planned = await manager.service!.planFor(key);
          plans.push({ service: key, actions: planned.plan.actions.map(describeAction), waiting: planned.plan.waiting, warnings: planned.warnings });
        }
        print(flags, plans, () =>
          plans
            .map((p) => [`${p.service}: ${p.actions.length === 0 ? 'in sync' : `${p.actions.length} action(s)`}`, ...p.actions.map((a, i) => `  ${i + 1}. ${a}`), ...p.waiting.map((w) => `  waiting: ${w}`), ...p.warnings.map((w) => `  warning: ${w}`)].join('\n'))
            .join('\n')
            .concat('\n'),
        );
      } finally {
        await manager.stop();
      }
    },
  );

  const ipam = program.command('ipam').description('the ENI address pool');
  connectionOptions(ipam.command('show').argument('[node]', 'one node; every node in the pool when absent').description('per node: ENIs, addresses, which pod has which, warm, in cooldown')).action(
    async (node: string | undefined, flags: ConnectionFlags) => {
      const manager = await inspector(flags);
      try {
        const pools = (await new EniPoolStore(manager.kubeconfig).list()).filter((p) => !node || p.metadata.name === node);
        if (node && pools.length === 0) throw new FlagError(`ipam show: no ENIPool for node ${JSON.stringify(node)}`);
        print(flags, pools.map((p) => ({ node: p.metadata.name, ...p.status })), () =>
          pools
            .map((p) => {
              const s = p.status;
              if (!s) return `${p.metadata.name}: no status yet`;
              const owner = new Map(s.allocations.map((a) => [a.ip, a.pod]));
              const cooling = new Map(s.cooldown.map((c) => [c.ip, c.until]));
              const lines = [
                `${p.metadata.name}  ${s.instanceId} ${s.instanceType}  ENIs ${s.enis.length}/${s.maxEnis}  addresses ${s.total} (assigned ${s.assigned}, warm ${s.warm}, cooldown ${s.cooling})  max pods ${s.maxPods}`,
              ];
              for (const eni of s.enis) {
                lines.push(`  ${eni.id} (device ${eni.deviceIndex}${eni.primary ? ', primary' : ''})`);
                for (const ip of eni.addresses) lines.push(`    ${ip.padEnd(16)} ${owner.get(ip) ?? (cooling.has(ip) ? `cooldown until ${cooling.get(ip)}` : 'warm')}`);
              }
              if (s.blocked) lines.push(`  blocked: ${s.blocked}`);
              return lines.join('\n');
            })
            .join('\n')
            .concat('\n'),
        );
      } finally {
        await manager.stop();
      }
    },
  );

  program
    .command('seed')
    .description('create (or find) the tagged VPC, subnets and node security group of localstack/seed.yaml on an AWS endpoint')
    .addOption(new Option('--aws-endpoint <url>', 'AWS endpoint URL').env('AWS_ENDPOINT_URL').default('http://127.0.0.1:4566'))
    .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION').default('us-east-1'))
    .addOption(new Option('--cluster-name <name>', 'cluster name').env('CPL_CLUSTER_NAME').makeOptionMandatory())
    .action(async (flags: { awsEndpoint: string; region: string; clusterName: string }) => {
      const clients = createAwsClients({
        region: flags.region,
        endpoint: flags.awsEndpoint,
        credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' },
      });
      try {
        const network = await seedNetwork(clients.ec2, flags.clusterName, readSeedTopology());
        process.stdout.write(`${JSON.stringify(network, null, 2)}\n`);
      } finally {
        clients.destroy();
      }
    });
}

