import { existsSync, readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { DescribeAvailabilityZonesCommand } from '@aws-sdk/client-ec2';
import { CONTROLLERS, Manager, type ControllerName, type ManagerConfig } from '../controllers/manager.ts';
import { DEFAULT_TARGET_BATCH_PERIOD_MS } from '../controllers/service/controller.ts';
import { controllerDefaults, DefaultsError, type ControllerDefaults } from '../core/controller-defaults.ts';
import { LeaderElector } from '../kube/leader.ts';
import { createMetrics } from '../observability/metrics.ts';
import { startHealthServer, type HealthServer } from '../observability/server.ts';
import type { AwsEnvironment } from '../devenv/environment.ts';
import { statePaths } from '../devenv/paths.ts';
import { createLogger, type LogFormat } from '../log.ts';

/** A flag value that does not parse: the message names the flag and the value. */
export class FlagError extends Error {}

/** "90s", "5m", "1h", "250ms" or a number of seconds → milliseconds. */
export function parseDuration(flag: string, raw: string, options: { zero?: boolean } = {}): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!match) throw new FlagError(`${flag}: invalid duration ${JSON.stringify(raw)} (use e.g. 30s, 5m, 1h)`);
  const value = Number(match[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = value * unit;
  if (ms <= 0 && !(options.zero && ms === 0)) throw new FlagError(`${flag}: must be more than zero, got ${JSON.stringify(raw)}`);
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
  watchNamespace?: string;
  nodeSelector?: string;
  concurrency: string;
  resyncPeriod: string;
  targetBatchPeriod: string;
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
  leaderElect?: string;
  leaderElectionNamespace?: string;
  leaderElectionName?: string;
  leaderElectionLeaseDuration?: string;
  leaderElectionRenewDeadline?: string;
  leaderElectionRetryPeriod?: string;
  metricsAddress?: string;
  healthAddress?: string;
  defaultTags?: string;
  externalManagedTags?: string;
  defaultTargetType?: string;
  defaultLoadBalancerScheme?: string;
  featureGates?: string;
  /** commander gives `true` for the flag alone, a string for `--flag=value` or the env variable. */
  enableManageBackendSecurityGroupRules?: string | boolean;
  disableRestrictedSgRules?: string | boolean;
}

/** The LBC's controller-wide defaults and feature gates, checked as its ControllerConfig.Validate checks them. */
export function defaultsOf(
  flags: Pick<RunFlags, 'defaultTags' | 'externalManagedTags' | 'defaultTargetType' | 'defaultLoadBalancerScheme' | 'featureGates' | 'enableManageBackendSecurityGroupRules' | 'disableRestrictedSgRules'>,
): ControllerDefaults {
  try {
    return controllerDefaults({
      ...optional('defaultTags', flags.defaultTags),
      ...optional('externalManagedTags', flags.externalManagedTags),
      ...optional('defaultTargetType', flags.defaultTargetType),
      ...optional('defaultScheme', flags.defaultLoadBalancerScheme),
      ...optional('featureGates', flags.featureGates),
      ...optional('enableManageBackendSGRules', flags.enableManageBackendSecurityGroupRules?.toString()),
      ...optional('disableRestrictedSGRules', flags.disableRestrictedSgRules?.toString()),
    });
  } catch (error) {
    if (error instanceof DefaultsError) throw new FlagError(error.message);
    throw error;
  }
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

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : ({ [key]: value } as { [P in K]?: V }));

/** Turns flags (and, with --local, the local environment's files) into the manager's configuration. */
export function managerConfig(flags: RunFlags): ManagerConfig {
  let local: AwsEnvironment | undefined;
  if (flags.local) {
    if (!existsSync(statePaths.awsJson)) throw new FlagError(`--local: ${statePaths.awsJson} is missing; run 'npm run up' first`);
    local = JSON.parse(readFileSync(statePaths.awsJson, 'utf8')) as AwsEnvironment;
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
    ...(flags.watchNamespace ? { watchNamespace: flags.watchNamespace } : {}),
    ...(flags.nodeSelector ? { nodeSelector: flags.nodeSelector } : {}),
    concurrency: parsePositiveInt('--concurrency', flags.concurrency),
    resyncPeriodMs: parseDuration('--resync-period', flags.resyncPeriod),
    targetBatchPeriodMs: parseDuration('--target-batch-period', flags.targetBatchPeriod, { zero: true }),
    defaults: defaultsOf(flags),
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

/** The aws-load-balancer-controller's flags, with its names and defaults (pkg/config/controller_config.go). */
export function lbcDefaultOptions(command: Command): Command {
  return command
    .addOption(new Option('--default-tags <k=v,...>', "tags on every AWS resource we create; they win over a Service's additional-resource-tags (unless EnableDefaultTagsLowPriority)").env('CPL_DEFAULT_TAGS'))
    .addOption(new Option('--external-managed-tags <keys>', 'tag keys managed outside: a Service may not set them').env('CPL_EXTERNAL_MANAGED_TAGS'))
    .addOption(new Option('--default-target-type <type>', 'target type of Services without nlb-target-type (instance or ip)').env('CPL_DEFAULT_TARGET_TYPE').default('instance'))
    .addOption(new Option('--default-load-balancer-scheme <scheme>', 'scheme of Services without scheme or internal (internal or internet-facing)').env('CPL_DEFAULT_LOAD_BALANCER_SCHEME').default('internal'))
    .addOption(
      new Option('--feature-gates <Name=bool,...>', "the LBC's EnableDefaultTagsLowPriority (default false: --default-tags win) and EnableIPTargetType (default true; false refuses ip targets)")
        .env('CPL_FEATURE_GATES')
        // Given twice, both count (pflag calls Set per occurrence; a later setting of a gate wins).
        .argParser((value: string, previous: string | undefined) => (previous ? `${previous},${value}` : value)),
    )
    // pflag bools: the flag alone is true, `--flag=false` turns it off.
    .addOption(
      new Option('--enable-manage-backend-security-group-rules [bool]', 'a Service naming its NLB\'s security groups gets the backend group and node rules unless manage-backend-security-group-rules is false')
        .env('CPL_ENABLE_MANAGE_BACKEND_SECURITY_GROUP_RULES')
        .default('false'),
    )
    .addOption(new Option('--disable-restricted-sg-rules [bool]', 'node rules from the backend group open every port (tcp, and udp for UDP target groups), not just the Services\' ports').env('CPL_DISABLE_RESTRICTED_SG_RULES').default('false'));
}

export function registerRunCommand(program: Command): void {
  lbcDefaultOptions(program.command('run'))
    .description('run the controller manager (service and node controllers)')
    .addOption(new Option('--kubeconfig <path>', 'kubeconfig file; in-cluster configuration when absent').env('KUBECONFIG'))
    .addOption(new Option('--cluster-name <name>', 'cluster name: tags every AWS resource we own').env('CPL_CLUSTER_NAME'))
    .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION'))
    .addOption(new Option('--aws-endpoint <url>', 'AWS endpoint URL (LocalStack, moto); real AWS when absent').env('AWS_ENDPOINT_URL'))
    .addOption(new Option('--vpc-id <id>', "the cluster's VPC; discovered by the cluster tag when absent").env('CPL_VPC_ID'))
    .addOption(new Option('--controllers <list>', `controllers to run (${CONTROLLERS.join(',')})`).env('CPL_CONTROLLERS').default(CONTROLLERS.join(',')))
    .addOption(new Option('--watch-namespace <ns>', 'only Services in this namespace (all when absent)').env('CPL_WATCH_NAMESPACE'))
    .addOption(new Option('--node-selector <labels>', 'only Nodes matching this label selector, for every controller').env('CPL_NODE_SELECTOR'))
    .addOption(new Option('--concurrency <n>', 'Services reconciled at once').env('CPL_CONCURRENCY').default('4'))
    .addOption(new Option('--resync-period <duration>', 'how often everything is reconciled again (drift repair)').env('CPL_RESYNC_PERIOD').default('60s'))
    .addOption(new Option('--target-batch-period <duration>', "a Service's target changes within this period cost one reconcile (0: each its own)").env('CPL_TARGET_BATCH_PERIOD').default(`${DEFAULT_TARGET_BATCH_PERIOD_MS}ms`))
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
    .addOption(new Option('--leader-elect <bool>', 'only the holder of a coordination.k8s.io Lease reconciles').env('CPL_LEADER_ELECT').default('false'))
    .addOption(new Option('--leader-election-namespace <ns>', "the Lease's namespace").env('CPL_LEADER_ELECTION_NAMESPACE').default('default'))
    .addOption(new Option('--leader-election-name <name>', "the Lease's name").env('CPL_LEADER_ELECTION_NAME').default('cloud-provider-localstack'))
    .addOption(new Option('--leader-election-lease-duration <duration>', 'how long a lease lasts without renewal').env('CPL_LEADER_ELECTION_LEASE_DURATION').default('15s'))
    .addOption(new Option('--leader-election-renew-deadline <duration>', 'how long the leader retries renewing before giving up').env('CPL_LEADER_ELECTION_RENEW_DEADLINE').default('10s'))
    .addOption(new Option('--leader-election-retry-period <duration>', 'how often candidates try').env('CPL_LEADER_ELECTION_RETRY_PERIOD').default('2s'))
    .addOption(new Option('--metrics-address <host:port>', "Prometheus /metrics ('off' to disable)").env('CPL_METRICS_ADDRESS').default('127.0.0.1:8080'))
    .addOption(new Option('--health-address <host:port>', "/healthz and /readyz ('off' to disable)").env('CPL_HEALTH_ADDRESS').default('127.0.0.1:8081'))
    .action(async (flags: RunFlags) => {
      const config = managerConfig(flags);
      const leader = leaderElectionConfig(flags);
      await runManager(config, leader, flags.metricsAddress ?? 'off', flags.healthAddress ?? 'off');
    });
}

export interface LeaderSettings {
  namespace: string;
  name: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export function leaderElectionConfig(flags: RunFlags): LeaderSettings | undefined {
  if (!boolean('--leader-elect', flags.leaderElect, false)) return undefined;
  const settings = {
    namespace: flags.leaderElectionNamespace ?? 'default',
    name: flags.leaderElectionName ?? 'cloud-provider-localstack',
    leaseDurationMs: parseDuration('--leader-election-lease-duration', flags.leaderElectionLeaseDuration ?? '15s'),
    renewDeadlineMs: parseDuration('--leader-election-renew-deadline', flags.leaderElectionRenewDeadline ?? '10s'),
    retryPeriodMs: parseDuration('--leader-election-retry-period', flags.leaderElectionRetryPeriod ?? '2s'),
  };
  if (!(settings.leaseDurationMs > settings.renewDeadlineMs && settings.renewDeadlineMs > settings.retryPeriodMs)) {
    throw new FlagError('--leader-election-lease-duration must exceed --leader-election-renew-deadline, which must exceed --leader-election-retry-period');
  }
  return settings;
}

const READY_CACHE_MS = 10_000;

/**
 * Runs the manager: informers at once (a standby has warm caches and is ready), controllers only while
 * leading. Losing the lease ends the process, as client-go's controllers do: a restart is the clean way back
 * to standby.
 */
export async function runManager(config: ManagerConfig, leader: LeaderSettings | undefined, metricsAddress: string, healthAddress: string): Promise<void> {
  const metrics = createMetrics();
  const manager = new Manager({ ...config, metrics });
  const log = config.log;
  let synced = false;
  let leading = !leader;
  void Promise.all(Object.values(manager.informers).map((i) => i.synced)).then(() => (synced = true));
  let awsCheck: { at: number; ok: boolean; reason?: string } | undefined;
  const awsReachable = async () => {
    if (!awsCheck || Date.now() - awsCheck.at > READY_CACHE_MS) {
      try {
        await manager.aws.ec2.send(new DescribeAvailabilityZonesCommand({}));
        awsCheck = { at: Date.now(), ok: true };
      } catch (error) {
        awsCheck = { at: Date.now(), ok: false, reason: `AWS endpoint unreachable: ${error instanceof Error ? error.message : String(error)}` };
      }
    }
    return awsCheck;
  };
  const readyz = async () => {
    if (!synced) return { ready: false, reason: 'caches not synced' };
    if (!leading) return { ready: true };
    const aws = await awsReachable();
    return aws.ok ? { ready: true } : { ready: false, ...(aws.reason ? { reason: aws.reason } : {}) };
  };
  const servers: HealthServer[] = [];
  const addresses = new Set([metricsAddress, healthAddress].filter((a) => a !== 'off'));
  for (const address of addresses) {
    const server = await startHealthServer({ address, registry: metrics.registry, healthz: () => true, readyz });
    log.info({ url: server.url }, 'serving /metrics, /healthz and /readyz');
    servers.push(server);
  }

  const identity = `${hostname()}_${randomUUID()}`;
  const elector = leader
    ? new LeaderElector(
        { kubeconfig: manager.kubeconfig, identity, ...leader, log: (msg, fields) => log.info(fields ?? {}, msg) },
        {
          onStartedLeading: async () => {
            leading = true;
            log.info({ identity, lease: `${leader.namespace}/${leader.name}` }, 'became the leader: starting controllers');
            await manager.start();
            log.info('started');
          },
          onStoppedLeading: () => {
            log.error({ identity }, 'lost the lease: exiting so that a fresh process campaigns again');
            process.exit(1);
          },
          onNewLeader: (holder) => {
            if (holder !== identity) log.info({ leader: holder }, 'another replica leads; standing by');
          },
        },
      )
    : undefined;
  const shutdown = async (signal: string) => {
    log.info({ signal }, 'stopping');
    await manager.stop();
    await elector?.stop({ release: true });
    for (const server of servers) await server.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  log.info({ cluster: config.clusterName, controllers: config.controllers, endpoint: config.endpoint ?? 'aws', leaderElection: Boolean(leader) }, 'starting');

  if (!elector) {
    await manager.start();
    log.info('started');
    return;
  }
  void elector.run();
}
