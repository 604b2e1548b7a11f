/**
 * Health checks (src/dataplane/health) against the real emulator plugin: the checker runs in this process, as
 * the data plane would, against servers this test opens on 127.0.0.x (the network rule: nothing leaves
 * 127.0.0.0/8 here), registered as ip targets (AvailabilityZone all). The emulator is one of the test's own in
 * data-plane mode (the environment's runs with CPL_EMULATOR_HEALTH=instant until its data plane runs, and then
 * that data plane would check these targets too). Timing is proven by counting checks, not by the clock.
 */
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, type AwsClients } from '../../src/cloud/clients.ts';
import { startHealthChecks, type CheckedGroup, type HealthChecks } from '../../src/dataplane/health/checker.ts';
import { healthCheckSpec } from '../../src/dataplane/health/spec.ts';
import { createClusterPki } from '../../src/devenv/pki.ts';
import { waitFor } from '../../src/testing/index.ts';
import { startOwnEmulator, type OwnEmulator } from './support/emulator.ts';

const SOURCE = '127.0.0.9'; // stands for the NLB's address in the target's zone
const SIMULATED = '127.0.0.77'; // nothing listens: were it checked, it would fail
const LISTENER_PORT = 8443;

/** An HTTP target whose /healthz answers 200 or 503 on demand, counting the checks and noting who sent them. */
interface HttpTarget {
  address: string;
  port: number;
  failing: boolean;
  checks: number;
  sources: Set<string>;
  hosts: Set<string>;
  server: HttpServer;
}

async function httpTarget(address: string): Promise<HttpTarget> {
  const target = { address, port: 0, failing: false, checks: 0, sources: new Set<string>(), hosts: new Set<string>() } as HttpTarget;
  target.server = createHttpServer((request, response) => {
    if (request.url === '/healthz') {
      target.checks += 1;
      target.sources.add(request.socket.remoteAddress ?? '');
      target.hosts.add(request.headers.host ?? '');
    }
    response.writeHead(request.url === '/healthz' && !target.failing ? 200 : 503).end();
  });
  await new Promise<void>((resolve) => target.server.listen(0, address, resolve));
  target.port = (target.server.address() as { port: number }).port;
  return target;
}

async function tcpTarget(address: string): Promise<{ server: TcpServer; port: number }> {
  const server = createTcpServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return { server, port: (server.address() as { port: number }).port };
}

const close = (server: HttpServer | TcpServer): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** What data plane's main.ts does: the groups some listener of the NLB forwards to, with their checks. */
async function groupsInUse(aws: AwsClients, loadBalancerArn: string): Promise<CheckedGroup[]> {
  const listeners = (await aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }))).Listeners ?? [];
  const groups: CheckedGroup[] = [];
  for (const listener of listeners) {
    const arn = listener.DefaultActions?.[0]?.TargetGroupArn;
    if (!arn || groups.some((group) => group.arn === arn)) continue;
    const group = (await aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))).TargetGroups![0]!;
    const health = (await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? [];
    const targets = health
      .filter((description) => description.TargetHealth?.State !== 'draining')
      .map((description) => ({ targetGroupArn: arn, id: description.Target!.Id!, port: description.Target!.Port!, address: description.Target!.Id!, zone: 'all' }));
    groups.push({ arn, spec: healthCheckSpec(group), targets, listenerPort: listener.Port! });
  }
  return groups;
}

describe('target health measured by the data plane', () => {
  let emulator: OwnEmulator;
  let aws: AwsClients;
  let checks: HealthChecks;
  const servers: (HttpServer | TcpServer)[] = [];
  let loadBalancerArn = '';
  let vpcId = '';

  beforeAll(async () => {
    emulator = await startOwnEmulator();
    aws = createAwsClients({ region: 'us-east-1', endpoint: emulator.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const subnets = (await aws.ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? [];
    vpcId = subnets[0]!.VpcId!;
    const lb = await aws.elbv2.send(
      new CreateLoadBalancerCommand({ Name: 'health', Type: 'network', Scheme: 'internal', Subnets: subnets.filter((s) => s.VpcId === vpcId).slice(0, 2).map((s) => s.SubnetId!) }),
    );
    loadBalancerArn = lb.LoadBalancers![0]!.LoadBalancerArn!;
    checks = startHealthChecks({
      sourceAddress: () => SOURCE,
      isSimulated: (address) => address === SIMULATED,
      emulatorEndpoint: emulator.endpoint,
      onChange: () => {},
      log: (line) => process.stderr.write(`[health] ${line}\n`),
    });
  }, 120_000);

  afterAll(async () => {
    await checks?.stop();
    await Promise.all(servers.map(close));
    aws?.destroy();
    await emulator?.stop();
  });

  const createGroup = async (name: string, protocol: 'TCP' | 'HTTP' | 'HTTPS', port: number, matcher = '200'): Promise<string> => {
    const created = await aws.elbv2.send(
      new CreateTargetGroupCommand({
        Name: name,
        Protocol: 'TCP',
        Port: port,
        VpcId: vpcId,
        TargetType: 'ip',
        HealthCheckProtocol: protocol,
        ...(protocol !== 'TCP' ? { HealthCheckPath: '/healthz', Matcher: { HttpCode: matcher } } : {}),
        // AWS's least interval and thresholds: 5 s, 2 failures to leave rotation, 3 successes to join it.
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 2,
        HealthyThresholdCount: 3,
        UnhealthyThresholdCount: 2,
      }),
    );
    return created.TargetGroups![0]!.TargetGroupArn!;
  };
  const register = (arn: string, id: string, port: number) =>
    aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: id, Port: port, AvailabilityZone: 'all' }] }));
  const listen = async (arn: string, port: number): Promise<string> =>
    (await aws.elbv2.send(new CreateListenerCommand({ LoadBalancerArn: loadBalancerArn, Protocol: 'TCP', Port: port, DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }] }))).Listeners![0]!
      .ListenerArn!;
  const health = async (arn: string): Promise<Record<string, string>> => {
    const found = (await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? [];
    return Object.fromEntries(found.map((d) => [`${d.Target!.Id}:${d.Target!.Port}`, [d.TargetHealth!.State, d.TargetHealth!.Reason].filter(Boolean).join('/')]));
  };
  const sync = async (): Promise<void> => checks.update(await groupsInUse(aws, loadBalancerArn));

  it('an HTTP target goes initial → healthy, leaves rotation after the unhealthy threshold of failed checks, and comes back', async () => {
    const web = await httpTarget('127.0.0.2');
    servers.push(web.server);
    const arn = await createGroup('web', 'HTTP', web.port);
    await register(arn, web.address, web.port);
    const key = `${web.address}:${web.port}`;
    expect(await health(arn)).toEqual({ [key]: 'unused/Target.NotInUse' });

    await listen(arn, LISTENER_PORT);
    // In use, and no check has run: registration is in progress, as on AWS.
    expect(await health(arn)).toEqual({ [key]: 'initial/Elb.RegistrationInProgress' });
    await sync();
    const seen: string[] = [];
    await waitFor(
      async () => {
        const state = (await health(arn))[key]!;
        if (seen.at(-1) !== state) seen.push(state);
        return state === 'healthy';
      },
      { description: 'the target healthy after 3 passed checks', intervalMs: 100 },
    );
    expect(seen.filter((state) => state !== 'initial/Elb.RegistrationInProgress')).toEqual(['initial/Elb.InitialHealthChecking', 'healthy']);
    expect(web.checks).toBeGreaterThanOrEqual(3);
    expect(checks.healthy(arn)).toEqual(new Set([key]));
    // Checked from the NLB's address, with AWS's Host header (LB address:listener port).
    expect(web.sources).toEqual(new Set([SOURCE]));
    expect(web.hosts).toEqual(new Set([`${SOURCE}:${LISTENER_PORT}`]));

    // Failing: it leaves rotation exactly after the unhealthy threshold (2) of failed checks, i.e. within
    // interval × unhealthy threshold, and DescribeTargetHealth says why.
    const checksBeforeFailing = web.checks;
    web.failing = true;
    await waitFor(async () => (await health(arn))[key] === 'unhealthy/Target.FailedHealthChecks', { description: 'the target unhealthy', intervalMs: 100 });
    expect(web.checks - checksBeforeFailing).toBe(2);
    expect(checks.healthy(arn)).toEqual(new Set());
    expect(checks.states(arn).get(key)).toEqual({ state: 'unhealthy', reason: 'Target.FailedHealthChecks' });

    // Recovered: back after the healthy threshold (3) of passed checks.
    const checksBeforeRecovery = web.checks;
    web.failing = false;
    await waitFor(async () => (await health(arn))[key] === 'healthy', { description: 'the target healthy again', intervalMs: 100 });
    expect(web.checks - checksBeforeRecovery).toBe(3);
    expect(checks.healthy(arn)).toEqual(new Set([key]));
  });

  it('TCP checks: a closed port fails, a simulated target is healthy at once without checks, a deregistered one drains', async () => {
    const up = await tcpTarget('127.0.0.3');
    const down = await tcpTarget('127.0.0.4');
    servers.push(up.server);
    const arn = await createGroup('tcp', 'TCP', up.port);
    await aws.elbv2.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '3' }] }));
    await register(arn, '127.0.0.3', up.port);
    await register(arn, '127.0.0.4', down.port);
    await register(arn, SIMULATED, 80);
    await listen(arn, 80);
    await sync();
    await waitFor(async () => (await health(arn))[`${SIMULATED}:80`] === 'healthy', { description: 'the simulated target healthy' });
    await close(down.server);
    await waitFor(
      async () => {
        const states = await health(arn);
        return states[`127.0.0.3:${up.port}`] === 'healthy' && states[`127.0.0.4:${down.port}`] === 'unhealthy/Target.FailedHealthChecks' && states;
      },
      { description: 'the open port healthy, the closed one unhealthy' },
    );
    expect(checks.healthy(arn)).toEqual(new Set([`127.0.0.3:${up.port}`, `${SIMULATED}:80`]));

    await aws.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: '127.0.0.3', Port: up.port }] }));
    await sync();
    expect((await health(arn))[`127.0.0.3:${up.port}`]).toBe('draining/Target.DeregistrationInProgress');
    expect(checks.states(arn).has(`127.0.0.3:${up.port}`)).toBe(false);
    await waitFor(async () => !(`127.0.0.3:${up.port}` in (await health(arn))), { description: 'the deregistration delay (3 s) to end' });
  });

  it('HTTPS checks: the certificate is not validated, the matcher range decides', async () => {
    // A certificate from a CA nobody trusts: AWS does not validate the target's certificate.
    const { apiserver } = await createClusterPki('127.0.0.6');
    let status = 204;
    const server = createHttpsServer({ cert: apiserver.cert, key: apiserver.key }, (request, response) => response.writeHead(request.url === '/healthz' ? status : 404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.6', resolve));
    servers.push(server);
    const port = (server.address() as { port: number }).port;
    const arn = await createGroup('tls', 'HTTPS', port, '200-299');
    await register(arn, '127.0.0.6', port);
    await listen(arn, 443);
    await sync();
    const key = `127.0.0.6:${port}`;
    await waitFor(async () => (await health(arn))[key] === 'healthy', { description: 'the HTTPS target healthy (204 is in 200-299)' });
    status = 302; // in the HTTP default 200-399, not in this group's 200-299
    await waitFor(async () => (await health(arn))[key] === 'unhealthy/Target.FailedHealthChecks', { description: 'the HTTPS target unhealthy on 302' });
  });

  it('a group no listener uses is unused, and starts over when a listener comes back', async () => {
    const web = await httpTarget('127.0.0.5');
    servers.push(web.server);
    const arn = await createGroup('detached', 'HTTP', web.port);
    await register(arn, web.address, web.port);
    const key = `${web.address}:${web.port}`;
    const listener = await listen(arn, 9000);
    await sync();
    await waitFor(async () => (await health(arn))[key] === 'healthy', { description: 'the target healthy' });

    await aws.elbv2.send(new DeleteListenerCommand({ ListenerArn: listener }));
    await sync();
    expect(checks.states(arn).size).toBe(0);
    expect(await health(arn)).toEqual({ [key]: 'unused/Target.NotInUse' });
    const checksWhileUnused = web.checks;

    await listen(arn, 9000);
    expect(await health(arn)).toEqual({ [key]: 'initial/Elb.RegistrationInProgress' });
    expect(web.checks).toBe(checksWhileUnused);
    await sync();
    await waitFor(async () => (await health(arn))[key] === 'healthy', { description: 'the target healthy again' });
  });
});
