import { Option, type Command } from 'commander';
import { EniPoolStore } from '../controllers/ipam/crd.ts';
import { Manager } from '../controllers/manager.ts';
import { POD_IPS_ANNOTATION } from '../core/ipam/keys.ts';
import { wantsLoadBalancer, stackIdOf } from '../core/model.ts';
import { instanceIdOf } from '../core/nodes.ts';
import { describeAction } from '../core/plan.ts';
import { readSeedTopology, seedNetwork } from '../devenv/seed.ts';
import { createAwsClients } from '../cloud/clients.ts';
import { FlagError, managerConfig, type RunFlags } from './run-command.ts';

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

type ConnectionFlags = Pick<RunFlags, 'kubeconfig' | 'clusterName' | 'region' | 'awsEndpoint' | 'vpcId' | 'local'> & { output: 'text' | 'json' };

/** A manager whose informers are synced but whose controllers do not run: for read-only commands. */
async function inspector(flags: ConnectionFlags): Promise<Manager> {
  const config = managerConfig({
    ...flags,
    controllers: 'service',
    concurrency: '1',
    resyncPeriod: '1h',
    nodeInstanceType: 'm5.large',
    nodeImageId: 'ami-12c6146b',
    logLevel: 'error',
    logFormat: 'text',
    warmEniTarget: '1',
    ipCooldownPeriod: '30s',
    leakedEniGracePeriod: '5m',
  });
  const manager = new Manager(config);
  await Promise.all(Object.values(manager.informers).map((informer) => informer.synced));
  return manager;
}

function parseKey(raw: string): string {
  const match = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(raw);
  if (!match) throw new FlagError(`service: expected NAMESPACE/NAME, got ${JSON.stringify(raw)}`);
  return raw;
}

const print = (flags: ConnectionFlags, json: unknown, text: () => string) => process.stdout.write(flags.output === 'json' ? `${JSON.stringify(json, null, 2)}\n` : text());

export interface DescribedTarget {
  id: string;
  port: number;
  health: string;
  what: string;
}

export interface DescribedService {
  service: string;
  targetType?: string;
  status?: string;
  loadBalancers: {
    arn: string;
    name: string;
    dnsName: string;
    scheme: string;
    state: string;
    listeners: { port: number; protocol: string; targetGroup?: { arn: string; name: string; targetType: string; protocol: string; port: number; healthCheck: string; targets: DescribedTarget[] } }[];
  }[];
  waiting: string[];
}

/** Service → NLB → listener → target group → targets (with what each target is: which pod or node). */
export async function describeService(manager: Manager, key: string): Promise<DescribedService> {
  const [namespace, name] = key.split('/') as [string, string];
  const service = manager.informers.services.get(name, namespace);
  const planned = await manager.service!.planFor(key);
  const { actual } = planned;
  const podByIp = new Map<string, string>();
  for (const pod of manager.informers.pods.list()) {
    const ip = pod.metadata?.annotations?.[POD_IPS_ANNOTATION]?.split(',')[0] ?? pod.status?.podIP;
    if (ip) podByIp.set(ip, `pod ${pod.metadata?.namespace}/${pod.metadata?.name} on ${pod.spec?.nodeName ?? '?'}`);
  }
  const nodeByInstance = new Map<string, string>();
  for (const node of manager.informers.nodes.list()) {
    const id = instanceIdOf(node);
    if (id) nodeByInstance.set(id, `node ${node.metadata?.name}`);
  }
  return {
    service: key,
    ...(planned.desired ? { targetType: planned.desired.targetType } : {}),
    ...(service ? { status: service.status?.loadBalancer?.ingress?.[0]?.hostname ?? '(no hostname yet)' } : { status: '(Service not found)' }),
    loadBalancers: actual.loadBalancers.map((lb) => ({
      arn: lb.arn,
      name: lb.name,
      dnsName: lb.dnsName,
      scheme: lb.scheme,
      state: lb.state,
      listeners: actual.listeners
        .filter((l) => l.loadBalancerArn === lb.arn)
        .sort((a, b) => a.port - b.port)
        .map((l) => {
          const tg = actual.targetGroups.find((t) => t.arn === l.targetGroupArn);
          return {
            port: l.port,
            protocol: l.protocol,
            ...(tg
              ? {
                  targetGroup: {
                    arn: tg.arn,
                    name: tg.name,
                    targetType: tg.targetType,
                    protocol: tg.protocol,
                    port: tg.port,
                    healthCheck: `${tg.healthCheck.protocol} ${tg.healthCheck.port}${tg.healthCheck.path ? ` ${tg.healthCheck.path}` : ''} every ${tg.healthCheck.intervalSeconds}s`,
                    targets: tg.targets
                      .map((t) => ({ id: t.id, port: t.port, health: t.state, what: (tg.targetType === 'ip' ? podByIp.get(t.id) : nodeByInstance.get(t.id)) ?? 'unknown' }))
                      .sort((a, b) => a.id.localeCompare(b.id)),
                  },
                }
              : {}),
          };
        }),
    })),
    waiting: planned.plan.waiting,
  };
}

export function renderServiceTree(d: DescribedService): string {
  const lines = [`Service ${d.service}${d.targetType ? ` (target type ${d.targetType})` : ''}  ${d.status ?? ''}`];
  if (d.loadBalancers.length === 0) lines.push('└─ no load balancer of ours');
  d.loadBalancers.forEach((lb, i) => {
    const lastLb = i === d.loadBalancers.length - 1;
    const pad = lastLb ? '   ' : '│  ';
    lines.push(`${lastLb ? '└─' : '├─'} NLB ${lb.name}  ${lb.scheme}  ${lb.state}`);
    lines.push(`${pad}DNS ${lb.dnsName}`);
    lb.listeners.forEach((l, j) => {
      const lastL = j === lb.listeners.length - 1;
      const pad2 = pad + (lastL ? '   ' : '│  ');
      const tg = l.targetGroup;
      lines.push(`${pad}${lastL ? '└─' : '├─'} listener ${l.protocol}:${l.port} → ${tg ? `${tg.name} (${tg.targetType}, ${tg.protocol}:${tg.port}, health ${tg.healthCheck})` : '(no target group)'}`);
      (tg?.targets ?? []).forEach((t, k) => {
        const lastT = k === tg!.targets.length - 1;
        lines.push(`${pad2}${lastT ? '└─' : '├─'} ${`${t.id}:${t.port}`.padEnd(28)} ${t.health.padEnd(9)} ${t.what}`);
      });
    });
  });
  for (const reason of d.waiting) lines.push(`waiting: ${reason}`);
  return `${lines.join('\n')}\n`;
}

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

  connectionOptions(program.command('plan').argument('[namespace/name]', 'one Service; every LoadBalancer Service when absent').description('the AWS actions the controller would take now, without taking them')).action(
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

