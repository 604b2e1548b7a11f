import { existsSync, readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { CONTROLLERS, Manager, type ControllerName, type ManagerConfig } from '../controllers/manager.ts';
import { statePaths } from '../devenv/paths.ts';
import { createLogger, type LogFormat } from '../log.ts';

/** A flag value that does not parse: the message names the flag and the value. */
export class FlagError extends Error {}

/** "90s", "5m", "1h", "250ms" or a number of seconds → milliseconds. */
export function parseDuration(flag: string, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!match) throw new FlagError(`${flag}: invalid duration ${JSON.stringify(raw)} (use e.g. 30s, 5m, 1h)`);
  const value = Number(match[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = value * unit;
  if (ms <= 0) throw new FlagError(`${flag}: must be more than zero, got ${JSON.stringify(raw)}`);
  return ms;
}

export function parsePositiveInt(flag: string, raw: string, max = 1000): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < 1 || value > max) throw new FlagError(`${flag}: must be a whole number from 1 to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

export function parseControllers(raw: string): ControllerName[] {
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(CONTROLLERS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new FlagError(`--controllers: unknown controller ${JSON.stringify(unknown[0] ?? raw)} (known: ${CONTROLLERS.join(', ')})`);
  }
  return names as ControllerName[];
}

export interface RunFlags {
  kubeconfig?: string;
  clusterName?: string;
  region?: string;
  awsEndpoint?: string;
  vpcId?: string;
  controllers: string;
  concurrency: string;
  resyncPeriod: string;
  nodeInstanceType: string;
  nodeImageId: string;
  nodeSecurityGroupIds?: string;
  logLevel: string;
  logFormat: string;
  local?: boolean;
  warmEniTarget: string;
  warmIpTarget?: string;
  minimumIpTarget?: string;
  maxEni?: string;
  ipCooldownPeriod: string;
  leakedEniGracePeriod: string;
  verifyUniqueAddresses?: string;
}

function optionalCount(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw.trim())) throw new FlagError(`${flag}: must be a whole number ≥ 0, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function boolean(flag: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
  throw new FlagError(`${flag}: must be true or false, got ${JSON.stringify(raw)}`);
}

interface LocalAws {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  clusterName: string;
  vpcId: string;
  nodeSecurityGroupId: string;
}

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : ({ [key]: value } as { [P in K]?: V }));

/** Turns flags (and, with --local, the local environment's files) into the manager's configuration. */
export function managerConfig(flags: RunFlags): ManagerConfig {
  let local: LocalAws | undefined;
  if (flags.local) {
    if (!existsSync(statePaths.awsJson)) throw new FlagError(`--local: ${statePaths.awsJson} is missing; run 'npm run up' first`);
    local = JSON.parse(readFileSync(statePaths.awsJson, 'utf8')) as LocalAws;
  }
  const clusterName = flags.clusterName ?? local?.clusterName;
  if (!clusterName) throw new FlagError('--cluster-name is required (or CPL_CLUSTER_NAME)');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/.test(clusterName)) throw new FlagError(`--cluster-name: invalid value ${JSON.stringify(clusterName)}`);
  const region = flags.region ?? local?.region;
  if (!region) throw new FlagError('--region is required (or AWS_REGION)');
  const endpoint = flags.awsEndpoint ?? local?.endpoint;
  if (endpoint && !/^https?:\/\/[^\s]+$/.test(endpoint)) throw new FlagError(`--aws-endpoint: invalid URL ${JSON.stringify(endpoint)}`);
  if (!['json', 'text'].includes(flags.logFormat)) throw new FlagError(`--log-format: must be json or text, got ${JSON.stringify(flags.logFormat)}`);
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(flags.logLevel)) throw new FlagError(`--log-level: invalid level ${JSON.stringify(flags.logLevel)}`);
  const kubeconfig = flags.kubeconfig ?? (local ? statePaths.kubeconfig : undefined);
  const credentials =
    process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY }
      : local
        ? { accessKeyId: local.accessKeyId, secretAccessKey: local.secretAccessKey }
        : undefined;
  const vpcId = flags.vpcId ?? local?.vpcId;
  const securityGroups = flags.nodeSecurityGroupIds ?? local?.nodeSecurityGroupId;
  return {
    ...(kubeconfig ? { kubeconfig } : {}),
    clusterName,
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    ...(vpcId ? { vpcId } : {}),
    controllers: parseControllers(flags.controllers),
    concurrency: parsePositiveInt('--concurrency', flags.concurrency),
    resyncPeriodMs: parseDuration('--resync-period', flags.resyncPeriod),
    node: {
      instanceType: flags.nodeInstanceType,
      imageId: flags.nodeImageId,
      securityGroupIds: securityGroups ? securityGroups.split(',').map((s) => s.trim()).filter(Boolean) : [],
    },
    ipam: {
      warm: {
        warmEniTarget: optionalCount('--warm-eni-target', flags.warmEniTarget) ?? 1,
        ...optional('warmIpTarget', optionalCount('--warm-ip-target', flags.warmIpTarget)),
        ...optional('minimumIpTarget', optionalCount('--minimum-ip-target', flags.minimumIpTarget)),
        ...optional('maxEni', optionalCount('--max-eni', flags.maxEni)),
      },
      cooldownMs: parseDuration('--ip-cooldown-period', flags.ipCooldownPeriod),
      leakedEniGraceMs: parseDuration('--leaked-eni-grace-period', flags.leakedEniGracePeriod),
      // The emulator may give out an address that is in use; real AWS never does.
      verifyUniqueAddresses: boolean('--verify-unique-addresses', flags.verifyUniqueAddresses, Boolean(endpoint)),
      resyncPeriodMs: Math.min(parseDuration('--resync-period', flags.resyncPeriod), 30_000),
    },
    log: createLogger({ level: flags.logLevel, format: flags.logFormat as LogFormat }),
  };
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the controller manager (service and node controllers)')
    .addOption(new Option('--kubeconfig <path>', 'kubeconfig file; in-cluster configuration when absent').env('KUBECONFIG'))
    .addOption(new Option('--cluster-name <name>', 'cluster name: tags every AWS resource we own').env('CPL_CLUSTER_NAME'))
    .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION'))
    .addOption(new Option('--aws-endpoint <url>', 'AWS endpoint URL (LocalStack, moto); real AWS when absent').env('AWS_ENDPOINT_URL'))
    .addOption(new Option('--vpc-id <id>', "the cluster's VPC; discovered by the cluster tag when absent").env('CPL_VPC_ID'))
    .addOption(new Option('--controllers <list>', `controllers to run (${CONTROLLERS.join(',')})`).env('CPL_CONTROLLERS').default(CONTROLLERS.join(',')))
    .addOption(new Option('--concurrency <n>', 'Services reconciled at once').env('CPL_CONCURRENCY').default('4'))
    .addOption(new Option('--resync-period <duration>', 'how often everything is reconciled again (drift repair)').env('CPL_RESYNC_PERIOD').default('60s'))
    .addOption(new Option('--node-instance-type <type>', 'instance type launched for Nodes without an instance').env('CPL_NODE_INSTANCE_TYPE').default('m5.large'))
    .addOption(new Option('--node-image-id <ami>', 'AMI launched for Nodes without an instance').env('CPL_NODE_IMAGE_ID').default('ami-12c6146b'))
    .addOption(new Option('--node-security-group-ids <ids>', 'security groups of launched node instances').env('CPL_NODE_SECURITY_GROUP_ID'))
    .addOption(new Option('--log-level <level>', 'trace, debug, info, warn, error').env('CPL_LOG_LEVEL').default('info'))
    .addOption(new Option('--log-format <format>', 'json or text').env('CPL_LOG_FORMAT').default('json'))
    .addOption(new Option('--warm-eni-target <n>', 'ENI pool: whole ENIs of free addresses to keep per node').env('WARM_ENI_TARGET').default('1'))
    .addOption(new Option('--warm-ip-target <n>', 'ENI pool: free addresses to keep per node (overrides the ENI target)').env('WARM_IP_TARGET'))
    .addOption(new Option('--minimum-ip-target <n>', 'ENI pool: addresses each node keeps at least').env('MINIMUM_IP_TARGET'))
    .addOption(new Option('--max-eni <n>', 'ENI pool: ENIs per node at most (below the instance type limit)').env('MAX_ENI'))
    .addOption(new Option('--ip-cooldown-period <duration>', 'ENI pool: how long a released address rests before reuse').env('IP_COOLDOWN_PERIOD').default('30s'))
    .addOption(new Option('--leaked-eni-grace-period <duration>', 'ENI pool: unattached ENIs of ours older than this are deleted').env('CPL_LEAKED_ENI_GRACE_PERIOD').default('5m'))
    .addOption(new Option('--verify-unique-addresses <bool>', 'ENI pool: check new addresses against the subnet (default: true with --aws-endpoint)').env('CPL_VERIFY_UNIQUE_ADDRESSES'))
    .option('--local', "use the local environment's kubeconfig and AWS settings (.devenv/)")
    .action(async (flags: RunFlags) => {
      const config = managerConfig(flags);
      const manager = new Manager(config);
      const shutdown = async (signal: string) => {
        config.log.info({ signal }, 'stopping');
        await manager.stop();
        process.exit(0);
      };
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      process.once('SIGINT', () => void shutdown('SIGINT'));
      config.log.info({ cluster: config.clusterName, controllers: config.controllers, endpoint: config.endpoint ?? 'aws' }, 'starting');
      await manager.start();
      config.log.info('started');
    });
}
