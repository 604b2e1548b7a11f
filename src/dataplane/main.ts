/**
 * The NLB data plane (ADR 0012): one process inside the VPC router's namespace, started by the environment's
 * `nlb` component as `nsenter --net=/run/netns/<router> -- node src/dataplane/main.ts`. It
 * - reaches the emulator at its ordinary 127.0.0.1:<port> through a relay to the vpc supervisor's Unix socket,
 * - reads the NLBs, listeners, groups and targets whenever the emulator's change counter moves (poller.ts),
 * - gives every NLB an address per subnet (addresses.ts) on the router's loopback, forwards with nftables (nft.ts), serves
 *   PPv2 and TLS listeners in userspace (proxy.ts) and the VPC resolver at base+2 (dns-server.ts),
 * - answers /healthz on a Unix socket once the first read is applied.
 * On SIGTERM it removes its table and addresses (the router namespace goes with `down` anyway).
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';

import { createAwsClients } from '../cloud/clients.ts';
import type { AwsEnvironment } from '../devenv/environment.ts';
import { statePaths } from '../devenv/paths.ts';
import { settings } from '../devenv/settings.ts';
import { onStopSignals } from '../devenv/stop-signals.ts';
import { vpcResolver } from '../devenv/vpc/fabric-commands.ts';
import { serveTcpToUnix } from '../devenv/vpc/relay.ts';
import { syncElbAddresses } from './addresses.ts';
import { routeBridgedFlows } from './bridge-netfilter.ts';
import { certificateStore } from './certificates.ts';
import { coalescing } from './coalesce.ts';
import { serveDns } from './dns-server.ts';
import { startHealthChecks, type CheckedGroup } from './health/checker.ts';
import { desiredDataPlane, inUserspace, resolveTarget, type NetworkFacts, type TargetGroupState, type UsedGroup } from './model.ts';
import { renderRuleset } from './nft.ts';
import { renderSecurityRuleset } from './nft-security.ts';
import { applyRuleset, endFlowsTo, removeRuleset } from './nft-apply.ts';
import { createObserved, type Snapshot } from './observed.ts';
import { nlbPaths } from './paths.ts';
import { startPoller } from './poller.ts';
import { startProxies } from './proxy.ts';
import { healthCheckSource, securityFilters } from './security-filters.ts';

const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);

const paths = nlbPaths();
// aws.json directly: environment.ts's module graph (toolchain, Kubernetes client) would cost this process ~100 MiB.
const aws = JSON.parse(readFileSync(statePaths.awsJson, 'utf8')) as AwsEnvironment;
const endpoint = `http://${settings.host}:${settings.ports.emulator}`;
const clients = createAwsClients({ region: aws.region, endpoint, credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey } });
const resolverAddress = vpcResolver(settings.vpcCidr);

const observed = createObserved(clients, aws.vpcId);
let snapshot: Snapshot | undefined;

/** Addresses real namespaces hold (hosts.json, rewritten by the vpc supervisor every 2 s); re-read at most every second. */
let realHosts = { set: new Set<string>(), readAt: 0 };
function isSimulated(address: string): boolean {
  if (Date.now() - realHosts.readAt > 1000) {
    try {
      const hosts = JSON.parse(readFileSync(paths.hostsJson, 'utf8')) as Record<string, string[]>;
      realHosts = { set: new Set(Object.values(hosts).flat()), readAt: Date.now() };
    } catch {
      realHosts = { set: new Set(), readAt: Date.now() };
    }
  }
  return !realHosts.set.has(address);
}

/** Applies after the one running, so two never interleave; requests while one waits share it (coalesce.ts). */
const applySerially = coalescing(apply);

const health = startHealthChecks({
  // Checks leave from the group's NLB's address in the target's zone, as AWS's nodes check from their own (the
  // targets' security groups judge that address: security-filters.ts).
  sourceAddress: (zone, targetGroupArn) => {
    const loadBalancerArn = snapshot?.loadBalancers.find((lb) => lb.listeners.some((l) => l.targetGroupArn === targetGroupArn))?.arn;
    return healthCheckSource(loadBalancerArn ? snapshot?.addresses.get(loadBalancerArn) : undefined, zone);
  },
  isSimulated,
  emulatorEndpoint: endpoint,
  onChange: () => void applySerially().catch((error: unknown) => log(`apply after a health change: ${(error as Error).message}`)),
  log,
});

let dnsTable = new Map<string, string[]>();
const proxies = startProxies(log, certificateStore(endpoint, log));

/** Draining targets of groups that end their flows when the delay is over: "group key" → where flows go. */
const draining = new Map<string, { address: string; port: number; protocols: ('tcp' | 'udp')[] }>();

/** After a read: forwards from the new picture, and ends drained flows where the group asks for it. */
async function afterRead(): Promise<void> {
  snapshot = observed.snapshot();
  await applySerially();
  await endDrainedFlows(snapshot.groups, snapshot.facts);
}

/** Computes what to forward from the last read and the current health, and applies it. */
async function apply(): Promise<void> {
  const seen = snapshot;
  if (!seen) return;
  const compute = () => desiredDataPlane(seen.loadBalancers, seen.groups, seen.addresses, seen.facts, (arn) => health.healthy(arn));
  // The checks follow the groups in use; computed again so what they know now counts at once (simulated targets).
  health.update(checkedGroups(compute().groups, seen.groups));
  const desired = compute();
  const wantedAddresses = new Set([resolverAddress, ...[...seen.addresses.values()].flat().map((a) => a.address)]);
  await syncElbAddresses(wantedAddresses);
  // Forwarding and security groups in one transaction: a new listener never forwards before its filters exist.
  const filters = securityFilters(seen, desired);
  if (routeBridgedFlows()) log('net.bridge.bridge-nf-call-iptables=0 in the router: DNATed flows within a subnet are routed, not bridged');
  if (await applyRuleset(renderRuleset(desired.listeners) + renderSecurityRuleset(filters.frontend, filters.backend, filters.blocked))) {
    const targets = desired.listeners.reduce((sum, listener) => sum + listener.targets.length, 0);
    log(`ruleset applied: ${desired.listeners.length} listener addresses, ${targets} target entries, ${desired.dns.size} DNS names`);
  }
  await proxies.update(desired.listeners.filter(inUserspace));
  dnsTable = desired.dns;
}

/** The groups in use as the checker takes them: each target with its address and zone, the group's check. */
function checkedGroups(used: readonly UsedGroup[], groups: readonly TargetGroupState[]): CheckedGroup[] {
  const specOf = new Map(groups.map((group) => [group.arn, group.healthCheck]));
  return used.flatMap((group) => {
    const spec = specOf.get(group.arn);
    if (!spec) return [];
    const targets = group.targets.map((t) => ({ targetGroupArn: group.arn, id: t.id, port: t.port, address: t.address, zone: t.zone }));
    return [{ arn: group.arn, spec, targets, listenerPort: group.listenerPort }];
  });
}

/**
 * `deregistration_delay.connection_termination.enabled=true`: when a target's delay ends (it leaves the draining
 * list), its remaining flows are cut. Without it they run on until idle, as on AWS.
 */
async function endDrainedFlows(groups: readonly TargetGroupState[], facts: NetworkFacts): Promise<void> {
  const listed = new Set<string>();
  for (const group of groups) {
    const terminates = group.attributes['deregistration_delay.connection_termination.enabled'] === 'true';
    const protocols: ('tcp' | 'udp')[] = group.protocol === 'UDP' ? ['udp'] : group.protocol === 'TCP_UDP' ? ['tcp', 'udp'] : ['tcp'];
    for (const target of group.targets) {
      const key = `${group.arn} ${target.id}:${target.port}`;
      listed.add(key);
      if (target.state !== 'draining' || !terminates || draining.has(key)) continue;
      const resolved = resolveTarget(group, target, facts);
      if (resolved) draining.set(key, { address: resolved.address, port: resolved.port, protocols });
    }
  }
  for (const [key, flows] of draining) {
    if (listed.has(key)) continue;
    draining.delete(key);
    for (const protocol of flows.protocols) await endFlowsTo(flows.address, flows.port, protocol);
    log(`deregistration delay over: flows to ${flows.address}:${flows.port} ended (${key})`);
  }
}

let ready = false;
const healthServer = createServer((request, response) => {
  const ok = request.url === '/healthz' && ready;
  response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
});

let stopPolling: (() => void) | undefined;
const closers: (() => void)[] = [];

async function main(): Promise<void> {
  // The emulator, at the address the SDK is configured with, through the supervisor's relay socket.
  const relay = await serveTcpToUnix(settings.host, settings.ports.emulator, paths.emulatorSocket);
  closers.push(() => relay.close());
  await syncElbAddresses(new Set([resolverAddress]));
  const dns = await serveDns(resolverAddress, (name) => dnsTable.get(name));
  closers.push(() => dns.close());
  const poller = startPoller({
    endpoint,
    full: async () => {
      await observed.full();
      await afterRead();
    },
    changed: async (changes) => {
      await observed.changed(changes);
      await afterRead();
    },
    idle: async () => {
      if (await observed.drained()) await afterRead();
    },
    log,
  });
  stopPolling = () => poller.stop();
  await poller.ready;
  rmSync(paths.healthSocket, { force: true });
  await new Promise<void>((resolve, reject) => {
    healthServer.once('error', reject);
    healthServer.listen(paths.healthSocket, resolve);
  });
  ready = true;
  log(`ready: resolver ${resolverAddress}, emulator ${endpoint} via ${paths.emulatorSocket}`);
}

async function shutdown(): Promise<void> {
  ready = false;
  stopPolling?.();
  await health.stop();
  await proxies.stop();
  for (const close of closers) close();
  healthServer.close();
  rmSync(paths.healthSocket, { force: true });
  await removeRuleset();
  await syncElbAddresses(new Set()).catch(() => undefined);
  clients.destroy();
}

onStopSignals(shutdown, log);

main().catch(async (error: unknown) => {
  log(`nlb data plane failed: ${(error as Error).stack ?? String(error)}`);
  await shutdown().catch(() => undefined);
  process.exit(1);
});
