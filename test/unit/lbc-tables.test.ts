import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Annotations, goBool, keyValues, list, Tags } from '../../src/core/annotations.ts';
import { LBC_DEFAULTS, type ControllerDefaults } from '../../src/core/controller-defaults.ts';
import { wantsLoadBalancer } from '../../src/core/model.ts';
import { portAttributesKey } from '../../src/core/target-group-attributes.ts';
import { model, subnets } from './support/lbc-model.ts';
import { thrownUserError as userError } from './support/user-error.ts';

/**
 * Test tables of the aws-load-balancer-controller (kubernetes-sigs/aws-load-balancer-controller @225f4456),
 * ported case by case: each case is named `<LBC test file> <Go test function> "<case name>"`. The load
 * balancer's tables are in lbc-tables-load-balancer.test.ts; cases left out, and why, in docs/lbc-parity.md.
 */

function service(annotations: Record<string, string>, spec: Partial<NonNullable<V1Service['spec']>> = {}): V1Service {
  return {
    metadata: { namespace: 'ns', name: 'svc', uid: 'uid-1', annotations },
    spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }], ...spec },
  };
}


describe('pkg/annotations/parser_test.go', () => {
  const key = 'p.co/sfx';
  it.each<[string, Record<string, string> | undefined, Record<string, string>]>([
    ['Test_serviceAnnotationParser_ParseStringMapAnnotation "empty"', undefined, {}],
    [
      'Test_serviceAnnotationParser_ParseStringMapAnnotation "multiple keys"',
      { 'first-value': '1', [key]: 'key1=value1, key2=value2, key3/with-slash=value3, key4/empty-value=' },
      { key1: 'value1', key2: 'value2', 'key3/with-slash': 'value3', 'key4/empty-value': '' },
    ],
    [
      'Test_serviceAnnotationParser_ParseStringMapAnnotation "multiple values"',
      { 'first-value': '1', [key]: 'key1=value1\\,valueOne, key2= value2, key3/with-slash=value3\\,valueThree, key4/empty-value=' },
      { key1: 'value1,valueOne', key2: 'value2', 'key3/with-slash': 'value3,valueThree', 'key4/empty-value': '' },
    ],
    [
      'Test_serviceAnnotationParser_ParseStringMapAnnotation "values containing equals sign"',
      { 'first-value': '1', [key]: 'key1=Mjk5NzkyNDU4Cg==, foo=ZGF=0=ZQo=, res=value_:/=+-@' },
      { key1: 'Mjk5NzkyNDU4Cg==', foo: 'ZGF=0=ZQo=', res: 'value_:/=+-@' },
    ],
  ])('%s', (_name, annotations, want) => {
    expect(keyValues(annotations, key)).toEqual(want);
  });

  it.each([
    ['Test_serviceAnnotationParser_ParseStringMapAnnotation "invalid key-value pair - no \'=\' between k/v"', 'key1,key2'],
    ['Test_serviceAnnotationParser_ParseStringMapAnnotation "invalid key-value pair - emptyKey"', '=value'],
  ])('%s', (_name, raw) => {
    const error = userError(() => keyValues({ [key]: raw }, key));
    expect(error.field).toBe(`annotation ${key}`);
    expect(error.value).toBe(raw);
  });

  // "empty value" ("\t,  ,,,,," gives no items) is not ported: we refuse an annotation that lists nothing.
  it.each<[string, Record<string, string> | undefined, string[] | undefined]>([
    ['Test_serviceAnnotationParser_ParseStringSliceAnnotation "Nonexistent"', undefined, undefined],
    ['Test_serviceAnnotationParser_ParseStringSliceAnnotation "single value"', { 'b.co/val': 'abc,' }, ['abc']],
    [
      'Test_serviceAnnotationParser_ParseStringSliceAnnotation "multiple values"',
      { 'b.co/val': 'ab  c, de  \t, test, ,\t\t\t123   \t\t, "ooo, 1,,,, 3' },
      ['ab  c', 'de', 'test', '123', '"ooo', '1', '3'],
    ],
  ])('%s', (_name, annotations, want) => {
    expect(list(annotations, 'b.co/val')).toEqual(want);
  });

  it.each<[string, string, boolean | undefined]>([
    ['Test_serviceAnnotationParser_ParseBoolAnnotation "Valid type"', 'true', true],
    ['Test_serviceAnnotationParser_ParseBoolAnnotation "Invalid"', 'FaLsE', undefined],
    // The rest of Go's strconv.ParseBool, which that parser calls.
    ['strconv.ParseBool 1', '1', true],
    ['strconv.ParseBool T', 'T', true],
    ['strconv.ParseBool False', 'False', false],
    ['strconv.ParseBool 0', '0', false],
    ['strconv.ParseBool yes', 'yes', undefined],
  ])('%s', (_name, raw, want) => {
    expect(goBool(raw)).toBe(want);
  });
});

describe('pkg/service/model_build_target_group_test.go', () => {
  it.each<[string, Record<string, string>, Record<string, string>]>([
    ['Test_defaultModelBuilderTask_targetGroupAttrs "Default values"', {}, { 'proxy_protocol_v2.enabled': 'false' }],
    ['Test_defaultModelBuilderTask_targetGroupAttrs "Proxy V2 enabled"', { [Annotations.proxyProtocol]: '*' }, { 'proxy_protocol_v2.enabled': 'true' }],
    [
      'Test_defaultModelBuilderTask_targetGroupAttrs "target group attributes"',
      { [Annotations.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=80, stickiness.enabled=false, preserve_client_ip.enabled=true' },
      { 'deregistration_delay.timeout_seconds': '80', 'preserve_client_ip.enabled': 'true', 'proxy_protocol_v2.enabled': 'false', 'stickiness.enabled': 'false' },
    ],
    [
      'Test_defaultModelBuilderTask_targetGroupAttrs "target group proxy v2 override"',
      { [Annotations.targetGroupAttributes]: 'proxy_protocol_v2.enabled=false', [Annotations.proxyProtocol]: '*' },
      { 'proxy_protocol_v2.enabled': 'true' },
    ],
  ])('%s', (_name, annotations, want) => {
    expect(model(service(annotations)).targetGroups[0]!.attributes).toEqual(want);
  });

  it.each<[string, Record<string, string>, string, string]>([
    ['Test_defaultModelBuilderTask_targetGroupAttrs "Invalid value"', { [Annotations.proxyProtocol]: 'v2' }, Annotations.proxyProtocol, 'v2'],
    [
      'Test_defaultModelBuilderTask_targetGroupAttrs "target group attr parse error"',
      { [Annotations.targetGroupAttributes]: 'k1=v1, malformed' },
      Annotations.targetGroupAttributes,
      'malformed',
    ],
    [
      'Test_defaultModelBuilderTask_targetGroupAttrs "IP enabled attribute parse error"',
      { [Annotations.targetGroupAttributes]: 'preserve_client_ip.enabled= FalSe' },
      Annotations.targetGroupAttributes,
      'FalSe',
    ],
    // The LBC's buildPreserveClientIPFlag fails on the parsed attribute; its buildTargetGroupAttributes, which runs
    // first, already refuses it (the case above), as we do: an error naming the annotation and the entry.
    [
      'Test_defaultModelBuilder_buildPreserveClientIPFlag "Attribute Parse error"',
      { [Annotations.targetGroupAttributes]: 'preserve_client_ip.enabled= FalSe, key1=value' },
      Annotations.targetGroupAttributes,
      'preserve_client_ip.enabled= FalSe',
    ],
    ['issue 9: preserve_client_ip.enabled=FalSe', { [Annotations.targetGroupAttributes]: 'preserve_client_ip.enabled=FalSe' }, Annotations.targetGroupAttributes, 'FalSe'],
  ])('%s', (_name, annotations, annotation, offending) => {
    const error = userError(() => model(service(annotations)));
    expect(error.field).toBe(`annotation ${annotation}`);
    expect(error.value).toContain(offending);
  });

  const twoPorts: Partial<NonNullable<V1Service['spec']>> = {
    ports: [
      { name: 'traffic', port: 80, targetPort: 80, nodePort: 31227, protocol: 'TCP' },
      { name: 'health', port: 1234, targetPort: 1234, nodePort: 30987, protocol: 'TCP' },
    ],
  };
  const ip = { [Annotations.targetType]: 'ip' };
  it('Test_defaultModelBuilder_buildTargetGroupHealthCheckPort "invalid default" (deliberate: our default port is traffic-port or the healthCheckNodePort, never a port name)', () => {
    // The LBC's default comes from a flag that may name a Service port ("abs", not found: an error); ours has no such flag.
    expect(model(service({}, twoPorts)).targetGroups.map((tg) => tg.healthCheck.port)).toEqual(['traffic-port', 'traffic-port']);
  });
  it.each<[string, V1Service, string]>([
    ['Test_defaultModelBuilder_buildTargetGroupHealthCheckPort "default traffic-port"', service({}), 'traffic-port'],
    ['Test_defaultModelBuilder_buildTargetGroupHealthCheckPort "with annotation"', service({ [Annotations.healthCheckPort]: '34576' }), '34576'],
    [
      'Test_defaultModelBuilder_buildTargetGroupHealthCheckPort "default health check nodeport"',
      service({}, { externalTrafficPolicy: 'Local', healthCheckNodePort: 31227 }),
      '31227',
    ],
    ['Test_defaultModelBuilder_buildTargetGroupHealthCheckPort "resolve port name instance"', service({ [Annotations.healthCheckPort]: 'health' }, twoPorts), '30987'],
    ['Test_defaultModelBuilder_buildTargetGroupHealthCheckPort "resolve port name IP"', service({ ...ip, [Annotations.healthCheckPort]: 'health' }, twoPorts), '1234'],
  ])('%s', (_name, svc, want) => {
    for (const tg of model(svc).targetGroups) expect(tg.healthCheck.port).toBe(want);
  });

  it.each<[string, V1Service, string]>([
    ['Test_defaultModelBuilder_buildTargetGroupHealthCheckPort "unsupported annotation value"', service({ [Annotations.healthCheckPort]: 'a34576' }), 'a34576'],
    ['Test_defaultModelBuilder_buildTargetGroupHealthCheckPort "invalid port name"', service({ [Annotations.healthCheckPort]: 'absent' }, twoPorts), 'absent'],
    // model_build_target_group.go buildTargetGroupHealthCheckPort: "cannot use named healthCheckPort for IP
    // TargetType when service's targetPort is a named port".
    [
      'model_build_target_group.go buildTargetGroupHealthCheckPort, named targetPort with ip targets',
      service({ ...ip, [Annotations.healthCheckPort]: 'health' }, { ports: [{ name: 'health', port: 80, targetPort: 'web', protocol: 'TCP' }] }),
      'health',
    ],
  ])('%s', (_name, svc, value) => {
    const error = userError(() => model(svc));
    expect(error.field).toBe(`annotation ${Annotations.healthCheckPort}`);
    expect(error.value).toBe(value);
  });
});

describe('pkg/service/model_build_target_group_test.go Test_defaultModelBuilderTask_targetGroupAttrs, per port', () => {
  const twoPorts: Partial<NonNullable<V1Service['spec']>> = {
    ports: [
      { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 },
      { name: 'mysql', port: 3306, targetPort: 3306, protocol: 'TCP', nodePort: 30306 },
    ],
  };
  const attrsOf = (annotations: Record<string, string>, port: number) => model(service(annotations, twoPorts)).targetGroups.find((tg) => tg.resourceId === `ns/svc:${port}`)!.attributes;
  const off = { 'proxy_protocol_v2.enabled': 'false' };
  const on = { 'proxy_protocol_v2.enabled': 'true' };
  const tgAttributes = Annotations.targetGroupAttributes;
  it.each<[string, Record<string, string>, number, Record<string, string>]>([
    [
      '"port-specific attributes with empty values"',
      { [tgAttributes]: 'deregistration_delay.timeout_seconds=80', [portAttributesKey(3306)]: 'deregistration_delay.timeout_seconds=' },
      3306,
      { ...off, 'deregistration_delay.timeout_seconds': '80' },
    ],
    [
      '"port-specific override with proxy protocol"',
      { [tgAttributes]: 'proxy_protocol_v2.enabled=true', [portAttributesKey(3306)]: 'proxy_protocol_v2.enabled=false', [Annotations.proxyProtocol]: '*' },
      3306,
      on,
    ],
    ['"proxy protocol per target group port 80"', { [Annotations.proxyProtocolPerTargetGroup]: '80' }, 80, on],
    ['"proxy protocol per target group port 80 proxy v2 override"', { [Annotations.proxyProtocolPerTargetGroup]: '443, 22', [Annotations.proxyProtocol]: '*' }, 80, on],
    [
      '"multiple ports with different attributes"',
      { [tgAttributes]: 'deregistration_delay.timeout_seconds=60', [portAttributesKey(80)]: 'deregistration_delay.timeout_seconds=30', [portAttributesKey(3306)]: 'deregistration_delay.timeout_seconds=120' },
      3306,
      { ...off, 'deregistration_delay.timeout_seconds': '120' },
    ],
    ['"empty port-specific attributes string"', { [tgAttributes]: 'deregistration_delay.timeout_seconds=60', [portAttributesKey(3306)]: '' }, 3306, { ...off, 'deregistration_delay.timeout_seconds': '60' }],
    [
      '"proxy protocol per target group with port-specific attributes"',
      { [Annotations.proxyProtocolPerTargetGroup]: '80,3306', [portAttributesKey(3306)]: 'deregistration_delay.timeout_seconds=120' },
      3306,
      { ...on, 'deregistration_delay.timeout_seconds': '120' },
    ],
    // The same Services' other port, from buildTargetGroupAttributes: the listed ports on, the others off.
    ['"proxy protocol per target group port 80", port 3306', { [Annotations.proxyProtocolPerTargetGroup]: '80' }, 3306, off],
    ['"multiple ports with different attributes", port 80', { [tgAttributes]: 'deregistration_delay.timeout_seconds=60', [portAttributesKey(80)]: 'deregistration_delay.timeout_seconds=30' }, 80, { ...off, 'deregistration_delay.timeout_seconds': '30' }],
  ])('%s', (_name, annotations, port, want) => {
    expect(attrsOf(annotations, port)).toEqual(want);
  });

  it('"invalid port-specific attribute value": the port\'s annotation is named', () => {
    const error = userError(() => attrsOf({ [portAttributesKey(3306)]: 'preserve_client_ip.enabled=invalid' }, 3306));
    expect([error.field, error.value]).toEqual([`annotation ${portAttributesKey(3306)}`, 'preserve_client_ip.enabled=invalid']);
  });

  // Deliberate difference (ADR 0008): keys that are not NLB target group attributes are refused before any write,
  // where the LBC passes them to AWS, which refuses them there.
  it.each<[string, Record<string, string>, string, string]>([
    [
      '"multiple port-specific attributes" (slow_start.duration_seconds is an ALB attribute)',
      { [tgAttributes]: 'slow_start.duration_seconds=30', [portAttributesKey(3306)]: 'deregistration_delay.timeout_seconds=120, stickiness.enabled=true' },
      tgAttributes,
      'slow_start.duration_seconds=30',
    ],
    ['"target group port-specific attributes" (target.group-attr-1 is no attribute)', { [tgAttributes]: 'target.group-attr-1=80', [portAttributesKey(3306)]: 'stickiness.enabled=true' }, tgAttributes, 'target.group-attr-1=80'],
  ])('%s', (_name, annotations, annotation, value) => {
    const error = userError(() => attrsOf(annotations, 3306));
    expect([error.field, error.value]).toEqual([`annotation ${annotation}`, value]);
  });

  it('model_build_target_group.go buildTargetGroupAttributes: a port in proxy-protocol-per-target-group must be a number', () => {
    const error = userError(() => attrsOf({ [Annotations.proxyProtocolPerTargetGroup]: '80, https' }, 80));
    expect([error.field, error.value]).toEqual([`annotation ${Annotations.proxyProtocolPerTargetGroup}`, '80, https']);
  });
});

describe('pkg/service/model_build_target_group_test.go Test_defaultModelBuilder_buildTargetType', () => {
  const typed = (annotations: Record<string, string>, spec: Partial<NonNullable<V1Service['spec']>> = {}, defaults: Partial<ControllerDefaults> = {}) =>
    model(service(annotations, spec), { defaults: { ...LBC_DEFAULTS, ...defaults } }).targetType;
  const nlbClass = { loadBalancerClass: 'service.k8s.aws/nlb' };
  it.each<[string, Record<string, string>, Partial<NonNullable<V1Service['spec']>>, Partial<ControllerDefaults>, string]>([
    ['"empty annotation"', {}, {}, {}, 'instance'],
    ['"default type ip"', {}, {}, { targetType: 'ip' }, 'ip'],
    ['"lb type nlb-ip"', { [Annotations.type]: 'nlb-ip' }, {}, {}, 'ip'],
    ['"lb type external, target instance"', { [Annotations.type]: 'external', [Annotations.targetType]: 'instance' }, {}, {}, 'instance'],
    ['"lb type external, target ip"', { [Annotations.type]: 'external', [Annotations.targetType]: 'ip' }, {}, {}, 'ip'],
    ['"load balancer class, default target type"', {}, nlbClass, {}, 'instance'],
    ['"allocate load balancer node ports false"', {}, { ...nlbClass, allocateLoadBalancerNodePorts: false }, {}, 'instance'],
  ])('%s', (_name, annotations, spec, defaults, want) => {
    expect(typed(annotations, spec, defaults)).toBe(want);
  });

  it('"allocate load balancer node ports false, node port unspecified"', () => {
    const error = userError(() => typed({}, { ...nlbClass, allocateLoadBalancerNodePorts: false, ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }] }));
    expect(error.field).toBe('spec.allocateLoadBalancerNodePorts');
  });

  // The LBC's enableIPTargetType is its EnableIPTargetType feature gate (--feature-gates EnableIPTargetType=false).
  const ipOff: Partial<ControllerDefaults> = { featureGates: { ...LBC_DEFAULTS.featureGates, EnableIPTargetType: false } };
  it('"enableIPTargetType is false, target ip"', () => {
    const annotations = { [Annotations.type]: 'external', [Annotations.targetType]: 'ip' };
    const error = userError(() => typed(annotations, { ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }] }, ipOff));
    expect([error.field, error.value]).toEqual([`annotation ${Annotations.targetType}`, 'ip']);
    expect(error.message).toContain('unsupported targetType: ip when EnableIPTargetType is false');
  });

  it('"external, ClusterIP with target type instance" (deliberate: a ClusterIP Service is never ours)', () => {
    const clusterIp = service({ [Annotations.type]: 'external', [Annotations.targetType]: 'instance' }, { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }] });
    // The LBC's error needs a ClusterIP Service it was asked to build; the controller never builds one.
    expect(wantsLoadBalancer(clusterIp)).toBe(false);
  });

  it('model_build_target_group.go buildTargetType with EnableIPTargetType=false: nlb-ip is refused too (named by the type annotation), instance targets build', () => {
    const error = userError(() => typed({ [Annotations.type]: 'nlb-ip' }, {}, ipOff));
    expect([error.field, error.value]).toEqual([`annotation ${Annotations.type}`, 'nlb-ip']);
    expect(typed({ [Annotations.targetType]: 'instance' }, {}, ipOff)).toBe('instance');
  });
});

describe('pkg/service/model_build_listener_test.go', () => {
  // The same five cases in three LBC tests: buildLoadBalancerTags (model_build_load_balancer_test.go),
  // buildTargetGroupTags (model_build_target_group_test.go) and buildListenerTags (here). The fifth, "default tags,
  // annotation tags, collision where annotation tags take priority", runs with --feature-gates EnableDefaultTagsLowPriority=true.
  const ownTags = (stack: ReturnType<typeof model>) => ({
    Test_defaultModelBuildTask_buildLoadBalancerTags: stack.loadBalancer.tags,
    Test_defaultModelBuildTask_buildTargetGroupTags: stack.targetGroups[0]!.tags,
    Test_defaultModelBuildTask_buildListenerTags: stack.listeners[0]!.tags!,
  });
  const withoutOwn = (tags: Record<string, string>) => Object.fromEntries(Object.entries(tags).filter(([key]) => !Object.values(Tags).includes(key as never)));
  const cases: [string, Record<string, string>, Record<string, string>, Record<string, string>][] = [
    ['"no default tags, no annotation tags"', {}, {}, {}],
    ['"no default tags, annotation tags"', { [Annotations.additionalTags]: 'k1=v1,k2=v2,k3=v3' }, {}, { k1: 'v1', k2: 'v2', k3: 'v3' }],
    ['"default tags, no annotation tags"', {}, { k1: 'v10', k2: 'v20' }, { k1: 'v10', k2: 'v20' }],
    ['"default tags, annotation tags, collision where default tags take priority"', { [Annotations.additionalTags]: 'k1=v1,k2=v2,k3=v3' }, { k1: 'v10', k2: 'v20' }, { k1: 'v10', k2: 'v20', k3: 'v3' }],
  ];
  const tagTests = ['Test_defaultModelBuildTask_buildLoadBalancerTags', 'Test_defaultModelBuildTask_buildTargetGroupTags', 'Test_defaultModelBuildTask_buildListenerTags'] as const;
  it.each(tagTests.flatMap((test) => cases.map(([name, ...rest]) => [test, name, ...rest] as const)))('%s %s', (test, _name, annotations, tags, want) => {
    expect(withoutOwn(ownTags(model(service(annotations), { defaults: { ...LBC_DEFAULTS, tags } }))[test])).toEqual(want);
  });

  const lowPriority: ControllerDefaults = { ...LBC_DEFAULTS, tags: { k1: 'v10', k2: 'v20' }, featureGates: { ...LBC_DEFAULTS.featureGates, EnableDefaultTagsLowPriority: true } };
  it.each(['Test_defaultModelBuildTask_buildLoadBalancerTags', 'Test_defaultModelBuildTask_buildTargetGroupTags', 'Test_defaultModelBuildTask_buildListenerTags'] as const)(
    '%s "default tags, annotation tags, collision where annotation tags take priority"',
    (test) => {
      const stack = model(service({ [Annotations.additionalTags]: 'k1=v1,k2=v2,k3=v3' }), { defaults: lowPriority });
      expect(withoutOwn(ownTags(stack)[test])).toEqual({ k1: 'v1', k2: 'v2', k3: 'v3' });
    },
  );

  it('EnableDefaultTagsLowPriority: a default tag the Service does not set stays, our own tags still cannot be overridden', () => {
    const stack = model(service({ [Annotations.additionalTags]: 'k1=v1' }), { defaults: lowPriority });
    expect(withoutOwn(stack.loadBalancer.tags)).toEqual({ k1: 'v1', k2: 'v20' });
    const error = userError(() => model(service({ [Annotations.additionalTags]: `${Tags.cluster}=x` }), { defaults: lowPriority }));
    expect(error.field).toBe(`annotation ${Annotations.additionalTags}`);
  });

  it('our own tags stay on every resource (the listener: its port as the resource)', () => {
    const stack = model(service({ [Annotations.additionalTags]: 'k1=v1' }), { defaults: { ...LBC_DEFAULTS, tags: { k2: 'v2' } } });
    expect(stack.listeners[0]!.tags).toEqual({ [Tags.cluster]: 'c1', [Tags.stack]: 'ns/svc', [Tags.resource]: '80', k1: 'v1', k2: 'v2' });
  });

  const udpAndTcp: Partial<NonNullable<V1Service['spec']>> = {
    ports: [
      { name: 'quic', port: 80, targetPort: 80, protocol: 'UDP', nodePort: 31223 },
      { name: 'tcp', port: 83, targetPort: 8883, protocol: 'TCP', nodePort: 32323 },
    ],
  };
  // buildListenerConfig's cases give the QUIC port set; buildListenerSpec turns UDP into QUIC for the listed ports.
  // Without security groups: AWS refuses QUIC listeners on an NLB with them, which we check before any write and
  // the LBC leaves to AWS (docs/lbc-parity.md).
  const noGroups = { [Annotations.disableNlbSecurityGroup]: 'true' };
  it.each<[string, string, Record<number, string>]>([
    ['Test_defaultModelBuilderTask_buildListenerConfig "Service with QUIC enabled port"', '80', { 80: 'QUIC', 83: 'TCP' }],
    ['Test_defaultModelBuilderTask_buildListenerConfig "Service with QUIC enabled port, not a part of service"', '500', { 80: 'UDP', 83: 'TCP' }],
    ['model_build_listener.go buildListenerSpec: a port named by its name', 'quic', { 80: 'QUIC', 83: 'TCP' }],
  ])('%s', (_name, quicPorts, want) => {
    const stack = model(service({ ...noGroups, [Annotations.quicEnabledPorts]: quicPorts }, udpAndTcp));
    expect(Object.fromEntries(stack.listeners.map((l) => [l.port, l.protocol]))).toEqual(want);
    expect(Object.fromEntries(stack.targetGroups.map((tg) => [Number(tg.resourceId.split(':')[1]), tg.protocol]))).toEqual(want);
  });

  it('model_build_listener.go buildListenerSpec: "Unsupported QUIC upgrade for protocol TCP"', () => {
    const error = userError(() => model(service({ ...noGroups, [Annotations.quicEnabledPorts]: '83' }, udpAndTcp)));
    expect(error.field).toBe(`annotation ${Annotations.quicEnabledPorts}`);
    expect(error.message).toContain('Unsupported QUIC upgrade for protocol TCP');
  });

  it('TCP and UDP on one port with the port in quic-enabled-ports: TCP_QUIC', () => {
    const ports = [
      { name: 'dns-tcp', port: 53, protocol: 'TCP', nodePort: 30053 },
      { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 },
    ];
    expect(model(service({ ...noGroups, [Annotations.quicEnabledPorts]: '53' }, { ports })).listeners.map((l) => l.protocol)).toEqual(['TCP_QUIC']);
  });

  // Ours, not the LBC's: where AWS takes a QUIC listener (CreateListener's prerequisites), refused before any write.
  it.each<[string, Record<string, string>, Partial<NonNullable<V1Service['spec']>>, string]>([
    ['with security groups (the default)', { [Annotations.quicEnabledPorts]: '80' }, udpAndTcp, 'not allowed on a load balancer with security groups'],
    ['two QUIC listeners', { ...noGroups, [Annotations.quicEnabledPorts]: '80,81' }, { ports: [{ port: 80, protocol: 'UDP', nodePort: 31080 }, { port: 81, protocol: 'UDP', nodePort: 31081 }] }, 'only one QUIC or TCP_QUIC listener'],
    ['beside a UDP listener', { ...noGroups, [Annotations.quicEnabledPorts]: '80' }, { ports: [{ port: 80, protocol: 'UDP', nodePort: 31080 }, { port: 81, protocol: 'UDP', nodePort: 31081 }] }, 'not allowed beside UDP or TCP_UDP listeners (port 81)'],
  ])('QUIC where AWS refuses it: %s', (_name, annotations, spec, problem) => {
    const error = userError(() => model(service(annotations, spec)));
    expect(error.field).toBe(`annotation ${Annotations.quicEnabledPorts}`);
    expect(error.message).toContain(problem);
  });
});

describe('pkg/targetgroupbinding/resource_manager_test.go', () => {
  const slice = (addresses: string[]): V1EndpointSlice => ({
    addressType: 'IPv4',
    metadata: { namespace: 'ns', name: 'svc-abc', labels: { 'kubernetes.io/service-name': 'svc' } },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: addresses.map((address) => ({ addresses: [address], conditions: { ready: true } })),
  });
  const ipService = service({ [Annotations.targetType]: 'ip' });

  // The zone override of Test_defaultResourceManager_GenerateOverrideAzFn "standard case ipv4" (VPC CIDR
  // 127.0.0.0/24), as registered (prepareRegistrationCall: override → AvailabilityZone "all").
  it.each<[string, string, 'all' | undefined]>([
    ['Test_defaultResourceManager_GenerateOverrideAzFn "standard case ipv4" 172.0.0.0', '172.0.0.0', 'all'],
    ['Test_defaultResourceManager_GenerateOverrideAzFn "standard case ipv4" 127.0.0.1', '127.0.0.1', undefined],
    ['Test_defaultResourceManager_GenerateOverrideAzFn "standard case ipv4" 127.0.0.2', '127.0.0.2', undefined],
  ])('%s', (_name, address, want) => {
    const [target] = model(ipService, { endpointSlices: [slice([address])] }).targetGroups[0]!.targets;
    expect(target).toEqual({ id: address, port: 8080, ...(want ? { availabilityZone: want } : {}) });
  });

  it('no subnet CIDR known: the zone is left to ELBv2', () => {
    const unknown = subnets.map(({ cidrBlock: _omitted, ...subnet }) => subnet);
    const [target] = model(ipService, { endpointSlices: [slice(['172.0.0.0'])], subnets: unknown }).targetGroups[0]!.targets;
    expect(target).toEqual({ id: '172.0.0.0', port: 8080 });
  });
});
