import type { V1Service, V1ServicePort } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { lbcSubnets, replay, type ReplayCase } from './support/lbc-build-replay.ts';

/**
 * Test_defaultModelBuilderTask_Build of the aws-load-balancer-controller (kubernetes-sigs/aws-load-balancer-controller
 * @225f4456, pkg/service/model_builder_test.go), replayed case by case: each row transcribes the case's inputs and
 * compares our whole model with the LBC's wantValue (test/unit/fixtures/lbc/model_builder_test.json) through
 * support/lbc-build-replay.ts, which says what is compared and normalised.
 */

const NAME = 'Test_defaultModelBuilderTask_Build';
const T = 'service.beta.kubernetes.io/aws-load-balancer-';

function service(namespace: string, name: string, uid: string | undefined, annotations: Record<string, string>, spec: Partial<NonNullable<V1Service['spec']>>): V1Service {
  return { metadata: { namespace, name, ...(uid ? { uid } : {}), annotations }, spec: { type: 'LoadBalancer', selector: { app: 'hello' }, ...spec } };
}
const tcp = (port: number, targetPort: number, extra: Partial<V1ServicePort> = {}): V1ServicePort => ({ port, targetPort, protocol: 'TCP', ...extra });

const rows: [string, ReplayCase][] = [
  [
    'Simple service',
    {
      service: service('default', 'nlb-ip-svc-tls', 'bdca2bd0-bfc6-449a-88a3-03451f05f18c', { [`${T}type`]: 'nlb-ip', [`${T}inbound-sg-rules-on-private-link-traffic`]: 'on' }, { ports: [tcp(80, 80)] }),
      subnets: lbcSubnets(1),
      nlbSecurityGroup: false,
    },
  ],
];

describe(`pkg/service/model_builder_test.go ${NAME}`, () => {
  it.each(rows)(`${NAME} "%s"`, (name, c) => {
    const { ours, lbc } = replay(name, c);
    expect(ours).toEqual(lbc);
  });
});
