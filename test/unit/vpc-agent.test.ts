import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { agentArgv, parseAgentArgs, type AgentArgs } from '../../src/devenv/vpc/agent/args.ts';
import { containerEnv, containerProgram, isAgnhostImage, podHostname, wrapInPodNamespace } from '../../src/devenv/vpc/agent/container-command.ts';
import { kubeProxyArgs } from '../../src/devenv/vpc/agent/kube-proxy.ts';
import { nodeLease, nodeStatusPatch } from '../../src/devenv/vpc/agent/node-status.ts';
import { podPhase, podStatus, type ContainerView } from '../../src/devenv/vpc/agent/pod-status.ts';
import { advanceProbe, initialProbeState, probeTiming, type ProbeState } from '../../src/devenv/vpc/agent/probe-state.ts';
import { resolvePort } from '../../src/devenv/vpc/agent/probe-runner.ts';

const args: AgentArgs = {
  node: 'ip-10-0-1-5',
  ip: '10.0.1.5',
  apiserverSocket: '/s/vpc/apiserver.sock',
  apiserverPort: 16443,
  kubeProxy: '/bin/kube-proxy',
  agnhost: '/bin/agnhost',
  podserver: '/bin/podserver',
  kubeconfig: '/s/vpc/nodes/a/kubeconfig',
  kubeProxyKubeconfig: '/s/vpc/kube-proxy.kubeconfig',
  stateDir: '/s/vpc/nodes/ip-10-0-1-5',
  leaseSeconds: 40,
};

describe('node agent arguments', () => {
  it('round-trips through the argv the supervisor builds', () => {
    expect(parseAgentArgs(agentArgv(args))).toEqual(args);
  });
  it("takes --flag=value and defaults the lease to 40 s and kube-proxy's kubeconfig to the agent's", () => {
    const argv = agentArgv(args).filter((_, i, all) => all[i] !== '--lease-seconds' && all[i - 1] !== '--lease-seconds');
    expect(parseAgentArgs(['--node=a', ...argv.slice(2)]).node).toBe('a');
    expect(parseAgentArgs(argv).leaseSeconds).toBe(40);
    // An older supervisor's command line (no kube-proxy identity): kube-proxy uses the agent's kubeconfig.
    const older = agentArgv(args).filter((_, i, all) => all[i] !== '--kube-proxy-kubeconfig' && all[i - 1] !== '--kube-proxy-kubeconfig');
    expect(parseAgentArgs(older).kubeProxyKubeconfig).toBe(args.kubeconfig);
  });
  it.each([
    [['--ip', '10.0.0.300'], /--ip="10.0.0.300" is not an IPv4 address/],
    [['--apiserver-port', '0'], /--apiserver-port="0" is not an integer in 1-65535/],
    [['--lease-seconds', '2'], /--lease-seconds="2" is not an integer in 4-3600/],
    [['--bogus', 'x'], /unknown argument "--bogus"/],
    [['--node'], /--node needs a value/],
  ])('refuses %j naming the flag and value', (extra, message) => {
    expect(() => parseAgentArgs([...agentArgv(args), ...extra])).toThrow(message);
  });
  it('names a missing flag', () => {
    expect(() => parseAgentArgs(agentArgv(args).slice(2))).toThrow(/--node is required/);
  });
});

describe('node status and lease', () => {
  const now = new Date('2026-12-02T00:00:10Z');
  it('posts Ready with a heartbeat and keeps a transition time while the status holds', () => {
    const patch = nodeStatusPatch({ name: 'n', ip: '10.0.1.5' }, [{ type: 'Ready', status: 'True', lastTransitionTime: new Date('2026-12-01T00:00:00Z') }], now);
    const ready = patch.status.conditions.find((c) => c.type === 'Ready')!;
    expect(ready).toMatchObject({ status: 'True', lastHeartbeatTime: now.toISOString(), lastTransitionTime: '2026-12-01T00:00:00.000Z' });
    expect(patch.status.addresses).toEqual([
      { type: 'InternalIP', address: '10.0.1.5' },
      { type: 'Hostname', address: 'n' },
    ]);
  });
  it('moves the transition time when Ready was False', () => {
    const patch = nodeStatusPatch({ name: 'n', ip: '10.0.1.5' }, [{ type: 'Ready', status: 'Unknown', lastTransitionTime: new Date(0) }], now);
    expect(patch.status.conditions.find((c) => c.type === 'Ready')!.lastTransitionTime).toBe(now.toISOString());
  });
  it('holds the lease for the node, owned by the Node, with microsecond renewTime', () => {
    const lease = nodeLease({ name: 'n', uid: 'u1' }, 40, now);
    expect(lease.metadata).toMatchObject({ name: 'n', namespace: 'kube-node-lease', ownerReferences: [{ kind: 'Node', name: 'n', uid: 'u1' }] });
    expect(lease.spec).toMatchObject({ holderIdentity: 'n', leaseDurationSeconds: 40 });
    expect(JSON.stringify(lease.spec!.renewTime)).toBe('"2026-12-02T00:00:10.000000Z"');
  });
});

describe('probe state', () => {
  const timing = probeTiming({ successThreshold: 2, failureThreshold: 3 });
  const run = (start: ProbeState, outcomes: boolean[]) => outcomes.reduce((state, passed) => advanceProbe(state, timing, passed), start);
  it('fills in Kubernetes defaults', () => {
    expect(probeTiming({})).toEqual({ initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
  });
  it.each([
    ['readiness unknown until successThreshold successes', 'readiness', [true], undefined],
    ['readiness passes after 2 successes', 'readiness', [true, true], true],
    ['a failure resets the success run', 'readiness', [true, false, true], undefined],
    ['passing readiness fails only after 3 failures in a row', 'readiness', [true, true, false, false], true],
    ['... and then fails', 'readiness', [true, true, false, false, false], false],
    ['comes back after 2 successes', 'readiness', [true, true, false, false, false, true, true], true],
    ['liveness starts passing', 'liveness', [], true],
    ['liveness fails after 3 failures', 'liveness', [false, false, false], false],
    ['startup unknown until it passes', 'startup', [false], undefined],
  ] as const)('%s', (_name, kind, outcomes, passing) => {
    expect(run(initialProbeState(kind), [...outcomes]).passing).toBe(passing);
  });
});

const pod = (image: string, extra: Partial<NonNullable<V1Pod['spec']>['containers'][number]> = {}): V1Pod => ({
  metadata: { name: 'web-1', namespace: 'demo', uid: 'u' },
  spec: { nodeName: 'n', containers: [{ name: 'c', image, ...extra }] },
});
const binaries = { agnhost: '/b/agnhost', podserver: '/b/podserver' };

describe('what runs for a container', () => {
  it.each([
    ['registry.k8s.io/e2e-test-images/agnhost:2.53', true],
    ['registry.k8s.io/e2e-test-images/agnhost', true],
    ['registry.k8s.io/e2e-test-images/agnhost@sha256:abc123', true],
    ['registry.k8s.io/e2e-test-images/agnhost-other:1', false],
    ['nginx:1.27', false],
  ])('%s is agnhost: %s', (image, agnhost) => expect(isAgnhostImage(image)).toBe(agnhost));

  it('agnhost with the pod args, /agnhost resolved to our binary', () => {
    const p = pod('registry.k8s.io/e2e-test-images/agnhost:2.53', { args: ['netexec', '--http-port=8080', '--udp-port=8081'] });
    expect(containerProgram(p, p.spec!.containers[0]!, binaries)).toEqual(['/b/agnhost', 'netexec', '--http-port=8080', '--udp-port=8081']);
    const q = pod('registry.k8s.io/e2e-test-images/agnhost:2.53', { command: ['/agnhost', 'serve-hostname'], args: ['--port=9376'] });
    expect(containerProgram(q, q.spec!.containers[0]!, binaries)).toEqual(['/b/agnhost', 'serve-hostname', '--port=9376']);
  });
  it('any other image: the stand-in with every declared port', () => {
    const p = pod('nginx', { ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }, { containerPort: 9, protocol: 'SCTP' }] });
    expect(containerProgram(p, p.spec!.containers[0]!, binaries)).toEqual(['/b/podserver', 'web-1', 'tcp:80', 'udp:53']);
  });
  it('runs in the pod ns with the pod hostname', () => {
    expect(wrapInPodNamespace('cplabc-p-1', 'web-1', ['/b/podserver', 'web-1'])).toEqual([
      'nsenter', '--net=/run/netns/cplabc-p-1', '--', 'unshare', '--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', 'web-1', '/b/podserver', 'web-1',
    ]);
    expect(podHostname({ metadata: { name: `${'a'.repeat(62)}-b` } })).toBe('a'.repeat(62));
  });
  it('env: literals and downward-API fields', () => {
    const p = pod('nginx', { env: [{ name: 'A', value: '1' }, { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }, { name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] });
    p.status = { podIP: '10.0.1.9' };
    expect(containerEnv(p, p.spec!.containers[0]!, { PATH: '/bin' })).toEqual({ PATH: '/bin', HOSTNAME: 'web-1', A: '1', IP: '10.0.1.9' });
  });
  it('probe ports by number or name', () => {
    const c = { name: 'c', ports: [{ name: 'http', containerPort: 8080 }] };
    expect([resolvePort(80, c), resolvePort('8081', c), resolvePort('http', c), resolvePort('nope', c)]).toEqual([80, 8081, 8080, undefined]);
  });
});

describe('kube-proxy flags', () => {
  it('iptables mode on the node, conntrack untouched, healthz on :10256', () => {
    expect(kubeProxyArgs({ kubeconfig: '/k', nodeName: 'n', nodeIp: '10.0.1.5' })).toEqual(
      expect.arrayContaining(['--hostname-override=n', '--proxy-mode=iptables', '--conntrack-max-per-core=0', '--healthz-bind-address=0.0.0.0:10256', '--metrics-bind-address=127.0.0.1:10249']),
    );
  });
});

describe('pod status', () => {
  const t0 = new Date('2026-12-02T00:00:00Z');
  const running = (extra: Partial<ContainerView> = {}): ContainerView => ({
    name: 'c', image: 'i', pid: 42, current: { state: 'running', startedAt: t0 }, last: undefined, restartCount: 0, started: true, ready: true, ...extra,
  });
  const terminated = (exitCode: number): ContainerView =>
    running({ pid: undefined, ready: false, current: { state: 'terminated', exitCode, reason: 'x', startedAt: t0, finishedAt: t0 } });
  const waiting: ContainerView = running({ pid: undefined, ready: false, started: false, current: { state: 'waiting', reason: 'ContainerCreating' } });

  it.each([
    ['no containers yet', [], 'Always', 'Pending'],
    ['waiting for the first start', [waiting], 'Always', 'Pending'],
    ['one running', [running(), waiting], 'Always', 'Running'],
    ['between restarts', [{ ...waiting, restartCount: 1 }], 'Always', 'Running'],
    ['all exited 0, Never', [terminated(0)], 'Never', 'Succeeded'],
    ['one failed, Never', [terminated(0), terminated(1)], 'Never', 'Failed'],
    ['failed, OnFailure restarts', [terminated(1)], 'OnFailure', 'Running'],
    ['exited 0, OnFailure', [terminated(0)], 'OnFailure', 'Succeeded'],
  ] as const)('%s → %s', (_name, containers, restartPolicy, phase) => {
    expect(podPhase({ containers: [...containers], restartPolicy })).toBe(phase);
  });

  const base: V1Pod = {
    metadata: { name: 'p', namespace: 'd' },
    status: { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: t0 }, { type: 'Ready', status: 'False', lastTransitionTime: t0 }] },
  };
  const view = (containers: ContainerView[]) => ({ podIp: '10.0.1.9', hostIp: '10.0.1.5', startTime: t0, sandboxReady: true, containers, restartPolicy: 'Always' });
  const now = new Date('2026-12-02T00:01:00Z');

  it('Ready follows the containers, with the pod and host addresses', () => {
    const { status } = podStatus(base, view([running()]), now);
    expect(status).toMatchObject({ phase: 'Running', podIP: '10.0.1.9', podIPs: [{ ip: '10.0.1.9' }], hostIP: '10.0.1.5' });
    expect(status.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: now.toISOString() });
    expect(status.conditions.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'True', lastTransitionTime: t0.toISOString() });
    expect(status.containerStatuses[0]).toMatchObject({ ready: true, started: true, containerID: 'cpl://42', state: { running: { startedAt: t0.toISOString() } } });
  });
  it('an unready container keeps Ready False (and its transition time)', () => {
    const { status } = podStatus(base, view([running({ ready: false })]), now);
    expect(status.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', lastTransitionTime: t0.toISOString() });
    expect(status.conditions.find((c) => c.type === 'ContainersReady')!.status).toBe('False');
  });
  it('restarts are counted with the last state', () => {
    const last = { state: 'terminated', exitCode: 137, reason: 'Error', startedAt: t0, finishedAt: t0 } as const;
    const { status } = podStatus(base, view([running({ restartCount: 2, last })]), now);
    expect(status.containerStatuses[0]).toMatchObject({ restartCount: 2, lastState: { terminated: { exitCode: 137 } } });
  });
});

describe('setup limiter', () => {
  it('runs at most N at once, in arrival order', async () => {
    const { createLimiter } = await import('../../src/devenv/vpc/agent/limiter.ts');
    const limit = createLimiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 5 }, () => Promise.withResolvers<void>());
    const tasks = gates.map((gate, i) =>
      limit(async () => {
        order.push(i);
        peak = Math.max(peak, ++running);
        await gate.promise;
        running--;
        return i;
      }),
    );
    for (const gate of gates) {
      await Promise.resolve();
      gate.resolve();
    }
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4]);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });
});
