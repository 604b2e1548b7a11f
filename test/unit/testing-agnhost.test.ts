import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Annotations } from '../../src/core/annotations.ts';
import { AGNHOST_HTTP_READY, AGNHOST_IMAGE, agnhostDeployment, FAST_HEALTH_CHECK_ANNOTATIONS, HTTP_SERVICE_PORT, loadBalancerServiceBody, readinessSwitch } from '../../src/testing/agnhost.ts';

const podSpec = (body: ReturnType<typeof agnhostDeployment>) => body.spec!.template.spec!;
const container = (body: ReturnType<typeof agnhostDeployment>) => podSpec(body).containers[0]!;

describe('agnhostDeployment', () => {
  it.each([
    { options: {}, args: ['netexec', '--http-port=8080'], ports: ['http:8080/TCP'] },
    { options: { udp: true }, args: ['netexec', '--http-port=8080', '--udp-port=8081'], ports: ['http:8080/TCP', 'udp:8081/UDP'] },
    { options: { args: ['--tls-cert-file=/c'] }, args: ['netexec', '--http-port=8080', '--tls-cert-file=/c'], ports: ['http:8080/TCP'] },
  ])('netexec $options: args and named ports', ({ options, args, ports }) => {
    const body = agnhostDeployment('web', options);
    expect(container(body).image).toBe(AGNHOST_IMAGE);
    expect(container(body).args).toEqual(args);
    expect(container(body).ports!.map((p) => `${p.name}:${p.containerPort}/${p.protocol ?? 'TCP'}`)).toEqual(ports);
  });

  it.each([
    { options: {}, readiness: AGNHOST_HTTP_READY },
    { options: { readinessProbe: null }, readiness: undefined },
    { options: { readinessProbe: { tcpSocket: { port: 8080 } } }, readiness: { tcpSocket: { port: 8080 } } },
  ])('readiness $options', ({ options, readiness }) => {
    expect(container(agnhostDeployment('web', options)).readinessProbe).toEqual(readiness);
  });

  it('selector and pod labels are app=<name> unless given; replicas 1, grace 1 s, placement only when asked', () => {
    const plain = agnhostDeployment('web');
    expect([plain.spec!.replicas, plain.spec!.selector.matchLabels, plain.spec!.template.metadata!.labels]).toEqual([1, { app: 'web' }, { app: 'web' }]);
    expect(podSpec(plain)).not.toHaveProperty('nodeSelector');
    expect(podSpec(plain)).not.toHaveProperty('nodeName');
    expect(podSpec(plain).terminationGracePeriodSeconds).toBe(1);
    const pinned = agnhostDeployment('web-0', { replicas: 3, labels: { app: 'web', pin: '0' }, nodeName: 'n0', nodeSelector: { t: 'x' }, terminationGracePeriodSeconds: 0 });
    expect([pinned.spec!.replicas, pinned.spec!.selector.matchLabels, podSpec(pinned).nodeName, podSpec(pinned).nodeSelector]).toEqual([3, { app: 'web', pin: '0' }, 'n0', { t: 'x' }]);
    expect(podSpec(pinned).terminationGracePeriodSeconds).toBe(0);
  });
});

describe('FAST_HEALTH_CHECK_ANNOTATIONS and loadBalancerServiceBody', () => {
  it('checks every 5 s with a 5 s timeout, 2 to turn healthy or unhealthy', () => {
    expect(FAST_HEALTH_CHECK_ANNOTATIONS).toEqual({
      [Annotations.healthCheckInterval]: '5',
      [Annotations.healthCheckTimeout]: '5',
      [Annotations.healthCheckHealthyThreshold]: '2',
      [Annotations.healthCheckUnhealthyThreshold]: '2',
    });
    expect(Object.isFrozen(FAST_HEALTH_CHECK_ANNOTATIONS)).toBe(true);
  });

  it.each([
    { options: {}, spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [HTTP_SERVICE_PORT] }, annotations: undefined },
    {
      options: { annotations: FAST_HEALTH_CHECK_ANNOTATIONS, selector: { app: 'x' }, spec: { externalTrafficPolicy: 'Local' } },
      spec: { type: 'LoadBalancer', selector: { app: 'x' }, ports: [HTTP_SERVICE_PORT], externalTrafficPolicy: 'Local' },
      annotations: FAST_HEALTH_CHECK_ANNOTATIONS,
    },
  ])('a LoadBalancer Service body $options', ({ options, spec, annotations }) => {
    const body = loadBalancerServiceBody('web', options);
    expect(body.metadata).toEqual({ name: 'web', ...(annotations ? { annotations } : {}) });
    expect(body.spec).toEqual(spec);
  });
});

describe('readinessSwitch', () => {
  it('probes the file named after the pod in its own folder; unready/ready/readyAll/remove act on that folder', () => {
    const readiness = readinessSwitch('cpl-unit-unready');
    const command = readiness.probes.readinessProbe.exec!.command!.join(' ');
    const dir = /test ! -e (\S+)\/\$\(hostname\)/.exec(command)![1]!;
    try {
      expect(existsSync(dir)).toBe(true);
      readiness.unready('web-1');
      expect(existsSync(`${dir}/web-1`)).toBe(true);
      readiness.ready('web-1');
      readiness.ready('web-1'); // twice: no error
      expect(existsSync(`${dir}/web-1`)).toBe(false);
      readiness.unready('web-2');
      readiness.readyAll();
      expect([existsSync(dir), existsSync(`${dir}/web-2`)]).toEqual([true, false]);
    } finally {
      readiness.remove();
    }
    expect(existsSync(dir)).toBe(false);
  });
});
