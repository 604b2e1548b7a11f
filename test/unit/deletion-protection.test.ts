import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Annotations } from '../../src/core/annotations.ts';
import { DeletionProtectedError, unprotectForDeletion } from '../../src/core/deletion-protection.ts';
import { planDeletion, type ActualStack } from '../../src/core/plan.ts';

const stack = (attributes?: Record<string, string>): ActualStack => ({
  loadBalancers: [{ arn: 'arn:lb', name: 'k8s-ns-web', scheme: 'internal', dnsName: 'lb.local', state: 'active', createdAt: 0, ...(attributes ? { attributes } : {}) }],
  listeners: [],
  targetGroups: [],
});
const service = (attributes?: string): V1Service => ({ metadata: { namespace: 'ns', name: 'web', annotations: attributes === undefined ? {} : { [Annotations.attributes]: attributes } } });

describe('unprotectForDeletion: deletion protection decides what deleting a stack may do', () => {
  it.each<[string, ActualStack, V1Service | undefined, string[]]>([
    ['not protected: nothing first', stack({ 'deletion_protection.enabled': 'false' }), service(), []],
    ['attributes not read: nothing first', stack(), service(), []],
    ['protected, the Service says false: turned off first', stack({ 'deletion_protection.enabled': 'true' }), service('deletion_protection.enabled=false'), ['ModifyLoadBalancerAttributes']],
  ])('%s', (_name, actual, svc, kinds) => {
    expect(unprotectForDeletion(actual, svc).map((a) => a.kind)).toEqual(kinds);
  });

  it.each<[string, V1Service | undefined]>([
    ['the Service keeps it on', service('deletion_protection.enabled=true')],
    ['the Service says nothing of it', service()],
    ['the Service is gone', undefined],
    ['the annotation cannot be read', service('deletion_protection.enabled=maybe')],
  ])('protected and %s: refused before any write, naming the annotation', (_name, svc) => {
    const actual = stack({ 'deletion_protection.enabled': 'true' });
    expect(() => unprotectForDeletion(actual, svc)).toThrow(DeletionProtectedError);
    expect(() => unprotectForDeletion(actual, svc)).toThrow(/deletion protection is enabled on arn:lb: set deletion_protection\.enabled=false in service\.beta\.kubernetes\.io\/aws-load-balancer-attributes/);
  });

  it('the deletion plan turns protection off before deleting the NLB', () => {
    const actual = stack({ 'deletion_protection.enabled': 'true' });
    const plan = planDeletion(actual, false, unprotectForDeletion(actual, service('deletion_protection.enabled=false')));
    expect(plan.actions).toEqual([
      { kind: 'ModifyLoadBalancerAttributes', loadBalancer: { arn: 'arn:lb' }, attributes: { 'deletion_protection.enabled': 'false' } },
      { kind: 'DeleteLoadBalancer', arn: 'arn:lb', reason: 'Service deleted or no longer a LoadBalancer' },
    ]);
  });
});
