import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Annotations, UserError } from '../../src/core/annotations.ts';
import { buildModel, type ModelInput } from '../../src/core/model.ts';
import { LOAD_BALANCER_ATTRIBUTES, TARGET_GROUP_ATTRIBUTES, targetGroupAttributesProblem } from '../../src/core/validation/attributes.ts';
import { quoted } from '../../src/core/validation/problem.ts';
import { tagsProblem } from '../../src/core/validation/tags.ts';

// Every value AWS (or Kubernetes, for target-node-labels) would refuse is a UserError of the model, before any
// write: one table per annotation, refused values with what the error names, and accepted values beside them.

const vpcId = 'vpc-1';
const HTTP = { [Annotations.healthCheckProtocol]: 'http' };

function service(annotations: Record<string, string>, protocol: 'TCP' | 'UDP' = 'TCP'): V1Service {
  return {
    metadata: { namespace: 'shop', name: 'web', uid: 'uid-1', annotations },
    spec: { type: 'LoadBalancer', ports: [{ name: 'p', port: 80, targetPort: 8080, protocol, nodePort: 30080 }] },
  };
}

const input = (svc: V1Service): ModelInput => ({
  clusterName: 'c1',
  vpcId,
  service: svc,
  nodes: [{ name: 'n1', instanceId: 'i-1', labels: {}, deleting: false, toBeDeleted: false }],
  endpointSlices: [],
  podVpcIp: () => undefined,
  subnets: [{ id: 'subnet-a', zone: 'us-east-1a', vpcId, tags: { 'kubernetes.io/role/internal-elb': '1' } }],
});

function userError(annotations: Record<string, string>, protocol?: 'TCP' | 'UDP'): UserError {
  try {
    buildModel(input(service(annotations, protocol)));
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error(`expected a UserError for ${JSON.stringify(annotations)}`);
}

const huge = 'x'.repeat(10 * 1024);

/** [annotation value, the part the error names, a phrase of the reason] */
type Refused = [string, string, string];

const refused: Record<string, { extra?: Record<string, string>; protocol?: 'UDP'; cases: Refused[]; accepted: string[] }> = {
  [Annotations.attributes]: {
    cases: [
      ['load_balancing.cross_zone.enabled=maybe', 'load_balancing.cross_zone.enabled=maybe', 'must be true or false'],
      ['no.such.attribute=true', 'no.such.attribute=true', 'not a load balancer attribute'],
      ['idle_timeout.timeout_seconds=60', 'idle_timeout.timeout_seconds=60', 'not a load balancer attribute'],
      [`access_logs.s3.prefix=${huge}`, `access_logs.s3.prefix=${huge}`, 'at most 1024'],
      ['access_logs.s3.enabled=true', 'access_logs.s3.enabled=true', 'need access_logs.s3.bucket'],
      ['access_logs.s3.enabled=true,access_logs.s3.bucket=My_Bucket', 'access_logs.s3.bucket=My_Bucket', 'S3 bucket name'],
      ['access_logs.s3.prefix=a/AWSLogs', 'access_logs.s3.prefix=a/AWSLogs', 'AWSLogs'],
      ['deletion_protection.enabled=TRUE', 'deletion_protection.enabled=TRUE', 'true or false'],
      ['dns_record.client_routing_policy=nearest', 'dns_record.client_routing_policy=nearest', 'availability_zone_affinity'],
      ['secondary_ips.auto_assigned.per_subnet=8', 'secondary_ips.auto_assigned.per_subnet=8', 'from 0 to 7'],
      ['bad key!=1', 'bad key!=1', 'not an attribute name'],
    ],
    accepted: [
      'deletion_protection.enabled=false,load_balancing.cross_zone.enabled=true',
      'access_logs.s3.enabled=true,access_logs.s3.bucket=my-logs.example,access_logs.s3.prefix=nlb/shop',
      'ipv6.deny_all_igw_traffic=true,zonal_shift.config.enabled=true',
      'dns_record.client_routing_policy=partial_availability_zone_affinity,secondary_ips.auto_assigned.per_subnet=7',
    ],
  },
  [Annotations.targetGroupAttributes]: {
    cases: [
      ['deregistration_delay.timeout_seconds=-5', 'deregistration_delay.timeout_seconds=-5', 'from 0 to 3600'],
      ['deregistration_delay.timeout_seconds=99999999999', 'deregistration_delay.timeout_seconds=99999999999', 'from 0 to 3600'],
      ['deregistration_delay.timeout_seconds=3601', 'deregistration_delay.timeout_seconds=3601', 'from 0 to 3600'],
      ['deregistration_delay.timeout_seconds=1.5', 'deregistration_delay.timeout_seconds=1.5', 'whole number'],
      ['stickiness.type=bogus', 'stickiness.type=bogus', 'must be one of source_ip'],
      ['stickiness.type=lb_cookie', 'stickiness.type=lb_cookie', 'must be one of source_ip'],
      [`stickiness.type=${huge}`, `stickiness.type=${huge}`, 'must be one of source_ip'],
      ['load_balancing.cross_zone.enabled=maybe', 'load_balancing.cross_zone.enabled=maybe', 'use_load_balancer_configuration'],
      ['slow_start.duration_seconds=30', 'slow_start.duration_seconds=30', 'not a target group attribute'],
      ['target_group_health.dns_failover.minimum_healthy_targets.percentage=101', 'target_group_health.dns_failover.minimum_healthy_targets.percentage=101', 'off or a whole number from 1 to 100'],
      ['target_group_health.unhealthy_state_routing.minimum_healthy_targets.count=off', 'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count=off', 'at least 1'],
      ['target_health_state.unhealthy.draining_interval_seconds=360001', 'target_health_state.unhealthy.draining_interval_seconds=360001', 'from 0 to 360000'],
      ['target_health_state.unhealthy.draining_interval_seconds=60', 'target_health_state.unhealthy.draining_interval_seconds=60', 'connection_termination.enabled=false'],
      ['preserve_client_ip.enabled=yes', 'preserve_client_ip.enabled=yes', 'true or false'],
    ],
    accepted: [
      'deregistration_delay.timeout_seconds=0,deregistration_delay.connection_termination.enabled=true',
      'deregistration_delay.timeout_seconds=3600,preserve_client_ip.enabled=false,proxy_protocol_v2.enabled=true',
      'stickiness.enabled=true,stickiness.type=source_ip,load_balancing.cross_zone.enabled=use_load_balancer_configuration',
      'target_group_health.dns_failover.minimum_healthy_targets.count=off,target_group_health.dns_failover.minimum_healthy_targets.percentage=50',
      'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count=2,target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage=off',
      'target_health_state.unhealthy.connection_termination.enabled=false,target_health_state.unhealthy.draining_interval_seconds=360000',
    ],
  },
  [Annotations.additionalTags]: {
    cases: [
      ['aws:reserved=x', 'aws:reserved=x', 'reserves'],
      ['AWS:Team=x', 'AWS:Team=x', 'reserves'],
      ['team=aws:x', 'team=aws:x', 'reserves'],
      [`team=${'v'.repeat(300)}`, `team=${'v'.repeat(300)}`, '300 characters; AWS allows at most 256'],
      [`${'k'.repeat(200)}=x`, `${'k'.repeat(200)}=x`, '200 characters; AWS allows at most 128'],
      ['team=a#b', 'team=a#b', 'may hold only'],
      ['te$m=x', 'te$m=x', 'may hold only'],
      [Array.from({ length: 48 }, (_, i) => `t${i}=v`).join(','), '48 tags', 'at most 47 tags'],
    ],
    accepted: [
      'team=shop,env=dev',
      `${'k'.repeat(128)}=${'v'.repeat(256)}`,
      'cost-center=a b:c/d=e+f-g@h_i.j,empty=,ünïcode=日本',
      Array.from({ length: 47 }, (_, i) => `t${i}=v`).join(','),
    ],
  },
  [Annotations.targetNodeLabels]: {
    cases: [
      ['role=not valid', 'role=not valid', 'label value'],
      ['-role=x', '-role=x', 'label key name'],
      ['Example.COM/role=x', 'Example.COM/role=x', 'label key prefix'],
      [`role=${'v'.repeat(64)}`, `role=${'v'.repeat(64)}`, 'label value'],
      [`${'k'.repeat(64)}=x`, `${'k'.repeat(64)}=x`, 'label key name'],
      ['a/b/c=x', 'a/b/c=x', 'label key prefix'],
    ],
    accepted: ['role=web', 'node.example.com/pool=blue_1,empty=', `${'k'.repeat(63)}=${'v'.repeat(63)}`],
  },
  [Annotations.healthCheckPath]: {
    extra: HTTP,
    cases: [
      [`/${'p'.repeat(1024)}`, `/${'p'.repeat(1024)}`, 'is 1025 characters; AWS allows at most 1024'],
      ['/héalth', '/héalth', 'visible ASCII'],
      ['/a b', '/a b', 'visible ASCII'],
      ['healthz', 'healthz', 'must start with /'],
    ],
    accepted: ['/', '/healthz?probe=1&x=%C3%A9', `/${'p'.repeat(1023)}`],
  },
  [Annotations.healthCheckSuccessCodes]: {
    extra: HTTP,
    cases: [
      ['600', '600', 'from 200 to 599'],
      ['199', '199', 'from 200 to 599'],
      ['200-600', '200-600', 'from 200 to 599'],
      ['399-200', '399-200', 'runs backwards'],
      ['200-300-400', '200-300-400', 'from 200 to 599'],
      ['2xx', '2xx', 'from 200 to 599'],
    ],
    accepted: ['200', '200-599', '200,202,300-310'],
  },
  [Annotations.healthCheckInterval]: {
    // The default timeout (10 s for TCP checks) must fit in the interval: AWS refuses a longer timeout.
    cases: [['4', '4', 'from 5 to 300'], ['301', '301', 'from 5 to 300'], ['5', '5', 'shorter than the health check timeout (10 s']],
    accepted: ['10', '300'],
  },
  [Annotations.healthCheckTimeout]: {
    extra: { [Annotations.healthCheckInterval]: '120' },
    cases: [['1', '1', 'from 2 to 120'], ['121', '121', 'from 2 to 120']],
    accepted: ['2', '120'],
  },
  [Annotations.healthCheckHealthyThreshold]: { cases: [['1', '1', 'from 2 to 10'], ['11', '11', 'from 2 to 10']], accepted: ['2', '10'] },
  [Annotations.healthCheckUnhealthyThreshold]: { cases: [['1', '1', 'from 2 to 10'], ['11', '11', 'from 2 to 10']], accepted: ['2', '10'] },
};

for (const [annotation, { extra = {}, cases, accepted }] of Object.entries(refused)) {
  describe(annotation, () => {
    it.each(cases.map(([value, names, reason]) => [value.length > 60 ? `${value.slice(0, 60)}…` : value, value, names, reason]))(
      'refuses %s',
      (_label, value, names, reason) => {
        const error = userError({ ...extra, [annotation]: value });
        expect(error.field).toBe(`annotation ${annotation}`);
        expect(error.value).toBe(names);
        expect(error.message).toContain(annotation);
        expect(error.message).toContain(reason);
        expect(error.message).toContain(quoted(names));
      },
    );
    it.each(accepted.map((value) => [value.length > 60 ? `${value.slice(0, 60)}…` : value, value]))('accepts %s', (_label, value) => {
      expect(() => buildModel(input(service({ ...extra, [annotation]: value })))).not.toThrow();
    });
  });
}

describe('health check timeout and interval together', () => {
  it('a timeout longer than the interval is refused naming the timeout (ELBv2 ValidationError)', () => {
    const error = userError({ [Annotations.healthCheckInterval]: '5', [Annotations.healthCheckTimeout]: '6' });
    expect(error.field).toBe(`annotation ${Annotations.healthCheckTimeout}`);
    expect(error.message).toContain('at most the health check interval (5 s)');
  });
  it.each([['5', '5'], ['5', '2'], ['30', '10']])('interval %s with timeout %s is taken', (interval, timeout) => {
    expect(() => buildModel(input(service({ [Annotations.healthCheckInterval]: interval, [Annotations.healthCheckTimeout]: timeout })))).not.toThrow();
  });
});

describe('target group attributes that depend on the protocol', () => {
  it.each([
    ['preserve_client_ip.enabled=false', 'client IP preservation cannot be disabled for a UDP target group'],
    ['target_health_state.unhealthy.connection_termination.enabled=true', 'cannot be enabled for a UDP target group'],
  ])('UDP refuses %s', (value, reason) => {
    const error = userError({ [Annotations.targetGroupAttributes]: value }, 'UDP');
    expect(error.value).toBe(value);
    expect(error.message).toContain(reason);
    // ...which a TCP target group takes.
    expect(() => buildModel(input(service({ [Annotations.targetGroupAttributes]: value })))).not.toThrow();
  });

  it('UDP takes a draining interval without turning connection termination off (it is never on)', () => {
    expect(targetGroupAttributesProblem({ 'target_health_state.unhealthy.draining_interval_seconds': '60' }, 'UDP')).toBeUndefined();
    expect(targetGroupAttributesProblem({ 'target_health_state.unhealthy.draining_interval_seconds': '60' }, 'TCP_UDP')).toBeUndefined();
  });
});

describe('the tables', () => {
  it('hold only names of ELBv2 attribute syntax', () => {
    for (const key of [...Object.keys(LOAD_BALANCER_ATTRIBUTES), ...Object.keys(TARGET_GROUP_ATTRIBUTES)]) expect(key).toMatch(/^[a-z0-9._]{1,256}$/);
  });

  it('an inherited property name is not an attribute', () => {
    expect(userError({ [Annotations.attributes]: 'constructor=true' }).message).toContain('not a load balancer attribute');
  });

  it('tags count the controller’s own towards the 50', () => {
    const tags = Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`t${i}`, 'v']));
    expect(tagsProblem(tags, 5)).toBeUndefined();
    expect(tagsProblem(tags, 6)?.problem).toContain('at most 44 tags');
  });
});

describe('messages', () => {
  it('cut a huge value to its first 100 characters and say how long it was', () => {
    const message = userError({ [Annotations.targetGroupAttributes]: `stickiness.type=${huge}` }).message;
    expect(message.length).toBeLessThan(400);
    expect(message).toContain(`(${'stickiness.type='.length + huge.length} characters)`);
    expect(quoted('short')).toBe('"short"');
  });
});
