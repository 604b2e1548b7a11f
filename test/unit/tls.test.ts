import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { DesiredListener, DesiredStack, HealthCheck } from '../../src/core/model.ts';
import { plan, type ActualListener, type ActualStack } from '../../src/core/plan.ts';
import { DEFAULT_SSL_POLICY, tlsConfigOf, tlsOfPort, TlsAnnotations } from '../../src/core/tls.ts';
import { model } from './support/lbc-model.ts';
import { thrownUserError as userError } from './support/user-error.ts';

/**
 * TLS listeners (src/core/tls.ts, tls-plan.ts). Rows ported from the aws-load-balancer-controller
 * (kubernetes-sigs/aws-load-balancer-controller @225f4456) name `<LBC test file> <Go test function> "<case>"`;
 * the others are ours, from its code (pkg/service/model_build_listener.go, pkg/deploy/elbv2/listener_manager.go).
 */

const A = TlsAnnotations;
const CERT_1 = 'arn:aws:acm:us-west-2:123456789012:certificate/cert1';
const CERT_2 = 'arn:aws:acm:us-west-2:123456789012:certificate/cert2';
const httpAndAlt2: V1ServicePort[] = [
  { name: 'http', port: 80, targetPort: 80, protocol: 'TCP', nodePort: 31223 },
  { name: 'alt2', port: 83, targetPort: 8883, protocol: 'TCP', nodePort: 32323 },
];

const service = (annotations: Record<string, string>, ports: V1ServicePort[] = httpAndAlt2): V1Service => ({
  metadata: { namespace: 'default', name: 'nlb-ip-svc-tls', uid: '7ab4be33-11c2-4a7b-b655-7add8affab36', annotations },
  spec: { type: 'LoadBalancer', ports },
});
const listeners = (stack: DesiredStack) => stack.listeners.map(({ port, protocol, tls }) => ({ port, protocol, ...(tls ? { tls } : {}) }));

describe('TLS listeners in the model', () => {
  // ACM ARNs in place of the LBC's placeholders certArn1/certArn2: those are refused here, as AWS would refuse them.
  it('pkg/service/model_builder_test.go Test_defaultModelBuilder_Build "TLS and access logging annotations": ssl-ports 83 → only 83 is TLS, every certificate, the default policy', () => {
    const stack = model(service({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb-ip', [A.ports]: '83', [A.certificates]: `${CERT_1},${CERT_2}` }));
    expect(listeners(stack)).toEqual([
      { port: 80, protocol: 'TCP' },
      { port: 83, protocol: 'TLS', tls: { certificates: [CERT_1, CERT_2], sslPolicy: 'ELBSecurityPolicy-2016-08' } },
    ]);
    expect(stack.targetGroups.map((tg) => tg.protocol)).toEqual(['TCP', 'TCP']);
  });

  it.each<[string, Record<string, string>, V1ServicePort[], { port: number; protocol: string }[]]>([
    ['no ssl-ports: every TCP port is TLS', { [A.certificates]: CERT_1 }, httpAndAlt2, [{ port: 80, protocol: 'TLS' }, { port: 83, protocol: 'TLS' }]],
    ['ssl-ports by name', { [A.certificates]: CERT_1, [A.ports]: 'alt2' }, httpAndAlt2, [{ port: 80, protocol: 'TCP' }, { port: 83, protocol: 'TLS' }]],
    ['ssl-ports without a certificate: no TLS', { [A.ports]: '83' }, httpAndAlt2, [{ port: 80, protocol: 'TCP' }, { port: 83, protocol: 'TCP' }]],
    ['UDP is never TLS', { [A.certificates]: CERT_1 }, [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }], [{ port: 53, protocol: 'UDP' }]],
    [
      'TCP_UDP (TCP and UDP on one number) is never TLS',
      { [A.certificates]: CERT_1 },
      [{ name: 't', port: 53, protocol: 'TCP', nodePort: 30053 }, { name: 'u', port: 53, protocol: 'UDP', nodePort: 30053 }],
      [{ port: 53, protocol: 'TCP_UDP' }],
    ],
  ])('%s (model_build_listener.go buildListenerSpec)', (_name, annotations, ports, expected) => {
    expect(listeners(model(service(annotations, ports))).map(({ port, protocol }) => ({ port, protocol }))).toEqual(expected);
  });

  it('backend-protocol ssl: the target group is TLS, a group of another name (its protocol cannot change in place); other values mean TCP', () => {
    const tcp = model(service({ [A.certificates]: CERT_1, [A.ports]: '83' })).targetGroups[1]!;
    const tls = model(service({ [A.certificates]: CERT_1, [A.ports]: '83', [A.backendProtocol]: 'ssl' })).targetGroups[1]!;
    expect([tcp.protocol, tls.protocol]).toEqual(['TCP', 'TLS']);
    expect(tls.name).not.toBe(tcp.name);
    expect(model(service({ [A.certificates]: CERT_1, [A.backendProtocol]: 'http' })).targetGroups[0]!.protocol).toBe('TCP');
  });

  it('ssl-negotiation-policy replaces the default', () => {
    const stack = model(service({ [A.certificates]: CERT_1, [A.negotiationPolicy]: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }));
    expect(stack.listeners[0]!.tls!.sslPolicy).toBe('ELBSecurityPolicy-TLS13-1-2-2021-06');
  });

  it('pkg/service/model_build_listener_test.go Test_defaultModelBuilderTask_buildListenerConfig "Service with unused ports in the ssl-ports annotation, Unused ports provided"', () => {
    const error = userError(() => model(service({ [A.ports]: '80, 85, 90, arbitrary-name' })));
    expect(error.field).toBe(`annotation ${A.ports}`);
    expect(error.value).toBe('80, 85, 90, arbitrary-name');
    expect(error.message).toContain('85, 90, arbitrary-name');
  });

  it('pkg/service/model_build_listener_test.go Test_defaultModelBuilderTask_buildListenerConfig "Service with unused ports in the ssl-ports annotation, No unused ports" (the LBC test builder has an empty default policy; ours is the flag default)', () => {
    const config = tlsConfigOf(service({ [A.ports]: '83' }));
    expect(config).toEqual({ certificates: [], ports: new Set(['83']), sslPolicy: DEFAULT_SSL_POLICY, backendSsl: false });
  });

  it.each<[string, string, string]>([
    ['a certificate that is not an ARN', A.certificates, `${CERT_1},certArn2`],
    ['an IAM ARN that is not a server certificate', A.certificates, 'arn:aws:iam::123456789012:role/x'],
    ['a policy that is no ELB security policy', A.negotiationPolicy, 'TLSv1.2'],
  ])('%s is a UserError naming annotation and value (AWS would refuse it after the NLB exists)', (_name, key, value) => {
    const error = userError(() => model(service({ [A.certificates]: CERT_1, [key]: value })));
    expect([error.field, error.value]).toEqual([`annotation ${key}`, value]);
  });

  it('an IAM server certificate and a GovCloud ACM ARN are certificates', () => {
    const iam = 'arn:aws:iam::123456789012:server-certificate/web';
    const gov = 'arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/abc';
    expect(model(service({ [A.certificates]: `${iam},${gov}` })).listeners[0]!.tls!.certificates).toEqual([iam, gov]);
  });

  it('ssl-ports `*` matches no port (annotations.md), so it is an unknown entry', () => {
    const error = userError(() => model(service({ [A.certificates]: CERT_1, [A.ports]: '*' })));
    expect(error.message).toContain('* matches no port');
  });
});

describe('pkg/service/model_build_listener_test.go Test_defaultModelBuilderTask_buildListenerALPNPolicy', () => {
  const port = { port: 443, names: [] };
  const withAlpn = (alpn?: string) => tlsConfigOf(service({ [A.certificates]: CERT_1, ...(alpn !== undefined ? { [A.alpnPolicy]: alpn } : {}) }, []));
  it.each<[string, string | undefined, boolean, string | undefined]>([
    ['Service without annotation', undefined, false, undefined],
    ['Service without annotation, TLS target', undefined, true, undefined],
    ['Service with annotation, non-TLS target', 'HTTP2Only', false, 'HTTP2Only'],
    ['Service with annotation, TLS target', 'HTTP1Only', true, 'HTTP1Only'],
  ])('"%s"', (_name, alpn, tlsTarget, expected) => {
    const config = { ...withAlpn(alpn), backendSsl: tlsTarget };
    expect(tlsOfPort(config, port, 'TCP').tls?.alpnPolicy).toBe(expected);
  });

  it('"Service with invalid annotation, TLS target"', () => {
    const error = userError(() => tlsOfPort({ ...withAlpn('unknown'), backendSsl: true }, port, 'TCP'));
    expect([error.field, error.value]).toEqual([`annotation ${A.alpnPolicy}`, 'unknown']);
    expect(error.message).toContain('None, HTTP1Only, HTTP2Only, HTTP2Optional, HTTP2Preferred');
  });

  it('an invalid policy on a Service without TLS listeners is not read (buildListenerALPNPolicy returns first)', () => {
    expect(model(service({ [A.alpnPolicy]: 'unknown' })).listeners.map((l) => l.protocol)).toEqual(['TCP', 'TCP']);
  });
});

describe('TLS listeners in the plan (listener_manager.go)', () => {
  const check: HealthCheck = { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3 };
  const tls = { certificates: ['cert-a', 'cert-b'], sslPolicy: DEFAULT_SSL_POLICY };
  const desired = (listener: Partial<DesiredListener>): DesiredStack => ({
    stackId: 'ns/web',
    targetType: 'instance',
    loadBalancer: { name: 'lb', scheme: 'internal', subnetIds: ['s1'], attributes: {}, tags: {} } as DesiredStack['loadBalancer'],
    targetGroups: [{ resourceId: 'ns/web:443', name: 'tg', protocol: 'TCP', port: 30443, targetType: 'instance', healthCheck: check, attributes: {}, targets: [{ id: 'i-1', port: 30443 }], tags: {} }],
    listeners: [{ port: 443, protocol: 'TLS', targetGroupResourceId: 'ns/web:443', tls, ...listener }],
  });
  const actual = (listener: Partial<ActualListener>): ActualStack => ({
    loadBalancers: [{ arn: 'lb-1', name: 'lb', scheme: 'internal', dnsName: 'lb.example', state: 'active', createdAt: 1 }],
    listeners: [{ arn: 'l-443', loadBalancerArn: 'lb-1', port: 443, protocol: 'TLS', targetGroupArn: 'tg-1', ...listener }],
    targetGroups: [{ arn: 'tg-1', name: 'tg', resourceId: 'ns/web:443', protocol: 'TCP', port: 30443, targetType: 'instance', healthCheck: check, targets: [{ id: 'i-1', port: 30443, state: 'healthy' }], loadBalancerArns: ['lb-1'] }],
  });
  const converged = { defaultCertificate: 'cert-a', sslPolicy: DEFAULT_SSL_POLICY, listedCertificates: ['cert-a', 'cert-b'] };

  it('a new TLS listener is created with its certificates and policy', () => {
    const result = plan(desired({}), { ...actual({}), listeners: [] });
    expect(result.actions).toEqual([{ kind: 'CreateListener', loadBalancer: { arn: 'lb-1' }, port: 443, protocol: 'TLS', targetGroup: { arn: 'tg-1' }, tls }]);
  });

  it('converged: no writes (listed certificates include the default one, as the LBC lists it)', () => {
    expect(plan(desired({}), actual(converged))).toEqual({ actions: [], waiting: [] });
    expect(plan(desired({ tls: { ...tls, alpnPolicy: 'None' } }), actual(converged)).actions).toEqual([]);
  });

  it('ssl-cert added to a TCP listener: TLS in place (same listener), then every certificate listed', () => {
    expect(plan(desired({}), actual({ protocol: 'TCP' })).actions).toEqual([
      { kind: 'ModifyListener', arn: 'l-443', port: 443, settings: { protocol: 'TLS', tls } },
      { kind: 'AddListenerCertificates', arn: 'l-443', port: 443, certificates: ['cert-a', 'cert-b'] },
    ]);
  });

  it('a new default certificate and a dropped one: ModifyListener, then Remove and Add of the listed ones', () => {
    const next = { certificates: ['cert-c', 'cert-a'], sslPolicy: DEFAULT_SSL_POLICY };
    expect(plan(desired({ tls: next }), actual(converged)).actions).toEqual([
      { kind: 'ModifyListener', arn: 'l-443', port: 443, settings: { protocol: 'TLS', tls: next } },
      { kind: 'RemoveListenerCertificates', arn: 'l-443', port: 443, certificates: ['cert-b'] },
      { kind: 'AddListenerCertificates', arn: 'l-443', port: 443, certificates: ['cert-c'] },
    ]);
  });

  it.each<[string, Partial<ActualListener>, Partial<DesiredListener>, object]>([
    ['policy changed', { ...converged, sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }, {}, { protocol: 'TLS', tls }],
    ['ALPN set', converged, { tls: { ...tls, alpnPolicy: 'HTTP2Preferred' } }, { protocol: 'TLS', tls: { ...tls, alpnPolicy: 'HTTP2Preferred' } }],
    ['ALPN annotation removed: None (the LBC alpnNone)', { ...converged, alpnPolicy: ['HTTP2Preferred'] }, {}, { protocol: 'TLS', tls, clearAlpn: true }],
    ['ssl-cert removed: back to TCP in place', converged, { protocol: 'TCP', tls: undefined }, { protocol: 'TCP' }],
  ])('%s → one ModifyListener', (_name, live, want, settings) => {
    const listener = desired(want);
    if (want.tls === undefined && 'tls' in want) delete listener.listeners[0]!.tls;
    expect(plan(listener, actual(live)).actions).toEqual([{ kind: 'ModifyListener', arn: 'l-443', port: 443, settings }]);
  });

  it('TLS to UDP is a replacement, as before', () => {
    const listener = desired({ protocol: 'UDP' });
    delete listener.listeners[0]!.tls;
    expect(plan(listener, actual(converged)).actions.map((a) => a.kind)).toEqual(['DeleteListener', 'CreateListener']);
  });
});
