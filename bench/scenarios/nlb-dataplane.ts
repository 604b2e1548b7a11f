import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { Tags } from '../../src/core/annotations.ts';
import { runCommand } from '../../src/dataplane/run.ts';
import { isRunning, readRecord } from '../../src/devenv/processes.ts';
import { netnsPath, routerNs } from '../../src/devenv/vpc/names.ts';
import { waitFor } from '../../src/testing/index.ts';
import { latencyFigures, mapLimit, round } from '../lib/measure.ts';
import { defineScenario } from '../lib/types.ts';

const MiB = 2 ** 20;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const TICKS = 100;

/** CPU seconds (user + system) and resident set of a process, from /proc. */
function processUsage(pid: number): { cpuSeconds: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS;
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
  return { cpuSeconds, rssBytes: rssKiB * 1024 };
}

/** The data plane's ruleset, as the kernel holds it in the router namespace. */
const ruleset = (): Promise<string> => runCommand(['nsenter', `--net=${netnsPath(routerNs())}`, '--', 'nft', 'list', 'table', 'ip', 'cpl_nlb']).catch(() => '');
const forwardedAddresses = (text: string): number => (text.match(/ : jump l\d+/g) ?? []).length;

/** The i-th simulated target address (in the third private subnet, 10.0.192.0/18; no namespace holds it). */
const targetAddress = (i: number): string => `10.0.${200 + Math.floor(i / 250)}.${2 + (i % 250)}`;

/**
 * The NLB data plane (ADR 0012) at N NLBs, created straight in the emulator (no controller): each internal, in the
 * three private subnets (three addresses each), with a TCP listener and an ip target group of two simulated
 * targets in us-east-1c (so, cross-zone off, one address of each forwards). Measured on the
 * `nlb` process of the environment: the time until every NLB forwards (its ENIs made, the ruleset applied), its
 * CPU seconds and RSS while idle at N NLBs (change polling, full re-reads, health bookkeeping), and the time from
 * a RegisterTargets to the new target in the kernel's ruleset (the change path: counter, re-read, apply).
 */
export default defineScenario({
  name: 'nlb-dataplane',
  description: 'nlb process CPU and RSS at N NLBs, time until they forward, time for a registration to apply',
  sizes: { smoke: { loadBalancers: 5, idleSeconds: 10, changes: 3 }, default: { loadBalancers: 200, idleSeconds: 60, changes: 10 } },
  async run(ctx, size) {
    const { elbv2 } = ctx.env.aws;
    const record = readRecord('nlb');
    if (!record || !isRunning(record)) throw new Error("the environment's nlb component is not running (npm run up starts it)");
    const pid = record.pid;
    const subnets = ctx.env.network.privateSubnets.map((subnet) => subnet.id);
    const tags = [{ Key: Tags.cluster, Value: ctx.cluster }];
    const before = forwardedAddresses(await ruleset());
    const idleBefore = processUsage(pid);

    const names = Array.from({ length: size.loadBalancers }, (_, i) => `dp-${ctx.cluster.slice(-8)}-${i}`);
    const groups: string[] = [];
    const loadBalancers: string[] = [];
    ctx.defer('aws', async () => {
      await mapLimit(loadBalancers, 8, (arn) => elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: arn })).catch(() => undefined));
      await mapLimit(groups, 8, (arn) => elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })).catch(() => undefined));
    });
    const t0 = performance.now();
    await mapLimit(names, 8, async (name, i) => {
      const group = await elbv2.send(
        new CreateTargetGroupCommand({ Name: name, Protocol: 'TCP', Port: 8080, TargetType: 'ip', VpcId: ctx.env.network.vpcId, Tags: tags }),
      );
      const groupArn = group.TargetGroups![0]!.TargetGroupArn!;
      groups.push(groupArn);
      await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: groupArn, Targets: [0, 1].map((j) => ({ Id: targetAddress(2 * i + j), Port: 8080 })) }));
      const lb = await elbv2.send(new CreateLoadBalancerCommand({ Name: name, Type: 'network', Scheme: 'internal', Subnets: subnets, Tags: tags }));
      const lbArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
      loadBalancers.push(lbArn);
      await elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lbArn, Protocol: 'TCP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: groupArn }] }));
    });
    const createdMs = performance.now() - t0;
    // Cross-zone is off (the NLB default): only the address in the targets' zone (us-east-1c) forwards.
    const expected = before + size.loadBalancers;
    await waitFor(async () => forwardedAddresses(await ruleset()) >= expected, {
      description: `${size.loadBalancers} NLBs forwarding (${expected} listener addresses in the ruleset)`,
      timeoutMs: 600_000,
      intervalMs: 200,
    });
    const allForwardingMs = performance.now() - t0;
    const afterCreate = processUsage(pid);

    // Idle at N NLBs: nothing changes; the process polls the change counter and re-reads every 30 s.
    await sleep(size.idleSeconds * 1000);
    const idleAfter = processUsage(pid);

    // The change path: one registration → the new address in the kernel's ruleset.
    const changeMs: number[] = [];
    for (let c = 0; c < size.changes; c++) {
      const address = targetAddress(2 * size.loadBalancers + c);
      const started = performance.now();
      await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: groups[c % groups.length]!, Targets: [{ Id: address, Port: 8080 }] }));
      await waitFor(async () => (await ruleset()).includes(`${address} . 8080`), { description: `${address} forwarded to`, timeoutMs: 120_000, intervalMs: 50 });
      changeMs.push(performance.now() - started);
    }
    const end = processUsage(pid);
    ctx.log(`${size.loadBalancers} NLBs forwarding after ${round(allForwardingMs / 1000)} s; a registration applies in ${round(changeMs[0]!)} ms`);

    return {
      loadBalancers: size.loadBalancers,
      nlbAddresses: size.loadBalancers * subnets.length,
      createdMs: round(createdMs),
      allForwardingMs: round(allForwardingMs),
      cpuSecondsToForwardAll: round(afterCreate.cpuSeconds - idleBefore.cpuSeconds, 2),
      idleCpuPercent: round(((idleAfter.cpuSeconds - afterCreate.cpuSeconds) / size.idleSeconds) * 100, 2),
      cpuSecondsPerChange: round((end.cpuSeconds - idleAfter.cpuSeconds) / size.changes, 3),
      rssBeforeMiB: round(idleBefore.rssBytes / MiB),
      rssMiB: round(end.rssBytes / MiB),
      ...latencyFigures('registrationApplies', changeMs),
    };
  },
});
