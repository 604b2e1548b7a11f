import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Annotations, goBool, keyValues, list, Tags } from '../../src/core/annotations.ts';
import { model, subnets } from './support/lbc-model.ts';
import { thrownUserError as userError } from './support/user-error.ts';

/**
 * Test tables of the aws-load-balancer-controller (kubernetes-sigs/aws-load-balancer-controller @225f4456),
 * ported case by case: each case is named `<LBC test file> <Go test function> "<case name>"`. Cases of
 * features we do not have (per-port `target-group-attributes.<port>`, `proxy-protocol-per-target-group`,
 * controller default tags, annotation prefixes) are left out and listed where they would be.
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
  // Not ported (no per-port attributes or proxy-protocol-per-target-group here): "port-specific attributes with
  // empty values", "multiple port-specific attributes", "port-specific override with proxy protocol", "invalid
  // port-specific attribute value", "target group port-specific attributes", "proxy protocol per target group
  // port 80", "proxy protocol per target group port 80 proxy v2 override", "multiple ports with different
  // attributes", "empty port-specific attributes string", "proxy protocol per target group with port-specific attributes".
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
    // Test_defaultModelBuilder_buildPreserveClientIPFlag "Attribute Parse error" is the same value (" FalSe").
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
  // "invalid default" is not ported: our defaults are traffic-port or the healthCheckNodePort, never a name.
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

describe('pkg/service/model_build_listener_test.go', () => {
  const own = { [Tags.cluster]: 'c1', [Tags.stack]: 'ns/svc', [Tags.resource]: '80' };
  // The "default tags, ..." cases are not ported: there are no controller-wide default tags here.
  it.each<[string, Record<string, string>, Record<string, string>]>([
    ['Test_defaultModelBuildTask_buildListenerTags "no default tags, no annotation tags"', {}, own],
    [
      'Test_defaultModelBuildTask_buildListenerTags "no default tags, annotation tags"',
      { [Annotations.additionalTags]: 'k1=v1,k2=v2,k3=v3' },
      { ...own, k1: 'v1', k2: 'v2', k3: 'v3' },
    ],
  ])('%s', (_name, annotations, want) => {
    expect(model(service(annotations)).listeners[0]!.tags).toEqual(want);
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
