import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CLIENT_GO_SPAM_LIMITS, createSpamFilter } from '../../src/kube/event-spam.ts';
import { createEventRecorder } from '../../src/kube/events.ts';
import { containerRef, kubeletMessage, nodeRef } from '../../src/devenv/vpc/agent/events.ts';
import { dialError } from '../../src/devenv/vpc/agent/probe-runner.ts';

const pod: V1Pod = { metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', resourceVersion: '42' } };

describe("the node agent's kubelet events", () => {
  it.each([
    [kubeletMessage.created('agnhost'), 'Created container: agnhost'],
    [kubeletMessage.started('agnhost'), 'Started container agnhost'],
    [kubeletMessage.probeFailed('readiness', ''), 'Readiness probe failed: '],
    [kubeletMessage.probeFailed('liveness', 'HTTP probe failed with statuscode: 500'), 'Liveness probe failed: HTTP probe failed with statuscode: 500'],
    [kubeletMessage.probeErrored('startup', 'port http not found'), 'Startup probe errored: port http not found'],
    [kubeletMessage.killedByProbe('agnhost', 'liveness'), 'Container agnhost failed liveness probe, will be restarted'],
    [kubeletMessage.killedByProbe('agnhost', 'startup'), 'Container agnhost failed startup probe, will be restarted'],
    [kubeletMessage.stopping('agnhost'), 'Stopping container agnhost'],
    [kubeletMessage.backOff('agnhost', pod), 'Back-off restarting failed container agnhost in pod web-1_shop(u-1)'],
    [kubeletMessage.startingKubelet, 'Starting kubelet.'],
    [kubeletMessage.nodeStatus('ip-10-0-1-5', 'NodeReady'), 'Node ip-10-0-1-5 status is now: NodeReady'],
  ])('%s', (message, expected) => {
    expect(message).toBe(expected);
  });

  it("names the container in fieldPath and the node by name as UID, as the kubelet's references", () => {
    expect(containerRef(pod, 'agnhost')).toEqual({ kind: 'Pod', apiVersion: 'v1', namespace: 'shop', name: 'web-1', uid: 'u-1', resourceVersion: '42', fieldPath: 'spec.containers{agnhost}' });
    expect(nodeRef('ip-10-0-1-5')).toEqual({ kind: 'Node', name: 'ip-10-0-1-5', uid: 'ip-10-0-1-5', namespace: '' });
  });

  it.each([
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'dial tcp 10.0.1.9:8080: connect: connection refused'],
    [{ code: 'EHOSTUNREACH', message: 'x' }, 'dial tcp 10.0.1.9:8080: connect: no route to host'],
    ['timeout' as const, 'dial tcp 10.0.1.9:8080: i/o timeout'],
    [{ code: 'EWEIRD', message: 'something else' }, 'dial tcp 10.0.1.9:8080: something else'],
  ])("probe dial error %j reads as Go's: %s", (error, expected) => {
    expect(dialError('10.0.1.9', 8080, error)).toBe(expected);
  });
});

describe("client-go's event spam filter (per source and object)", () => {
  it('lets a burst through, then one per 1/qps seconds; other objects have buckets of their own', () => {
    const filter = createSpamFilter({ burst: 3, qps: 1 / 300 });
    const at = (seconds: number) => seconds * 1000;
    expect([0, 1, 2, 3, 4].map((s) => filter.allow('pod-a', at(s)))).toEqual([true, true, true, false, false]);
    expect(filter.allow('pod-b', at(4))).toBe(true);
    // The bucket refills continuously from the first event: one token after 300 s.
    expect(filter.allow('pod-a', at(299))).toBe(false);
    expect(filter.allow('pod-a', at(300))).toBe(true);
    expect(filter.allow('pod-a', at(301))).toBe(false);
  });

  it('refills to the burst at most, and forgets the least recent key past maxKeys', () => {
    const filter = createSpamFilter({ burst: 2, qps: 1, maxKeys: 1 });
    expect([filter.allow('a', 0), filter.allow('a', 0), filter.allow('a', 0)]).toEqual([true, true, false]);
    expect([filter.allow('a', 100_000), filter.allow('a', 100_000), filter.allow('a', 100_000)]).toEqual([true, true, false]);
    filter.allow('b', 100_000);
    // 'a' was evicted: a full bucket again.
    expect([filter.allow('a', 100_000), filter.allow('a', 100_000)]).toEqual([true, true]);
  });

  it("uses client-go's defaults: 25 then one every 5 minutes", () => {
    expect(CLIENT_GO_SPAM_LIMITS).toEqual({ burst: 25, qps: 1 / 300 });
  });
});

describe('the event recorder when the apiserver is unreachable', () => {
  it('neither throws nor waits; writes past the spam limit are not attempted, each failed write is logged once', async () => {
    // A port nothing listens on (127.0.0.1:1): every write fails with a refused connection.
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    const logged: string[] = [];
    const recorder = createEventRecorder(kc, 'kubelet', (msg) => logged.push(msg), { host: 'node-a', spam: { burst: 2, qps: 1 / 300 } });
    const ref = containerRef(pod, 'agnhost');
    for (let i = 0; i < 30; i++) recorder.eventOn(ref, 'Warning', 'Unhealthy', `Readiness probe failed: attempt ${i % 3}`);
    expect(logged).toEqual([]); // nothing awaited yet: record returned at once
    await recorder.flush();
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatch(/^event Unhealthy for Pod shop\/web-1: write failed: /);
  });
});
