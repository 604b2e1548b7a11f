import { describe, expect, it } from 'vitest';
import { AwsCallCounter, callsBetween, isMutating } from '../../src/cloud/calls.ts';

describe('AwsCallCounter', () => {
  it('counts calls by service and operation and tells reads from writes', () => {
    const counter = new AwsCallCounter();
    counter.begin('ELBv2', 'DescribeLoadBalancers')('success');
    counter.begin('ELBv2', 'CreateLoadBalancer')('success');
    counter.begin('EC2', 'DescribeSubnets')('error');
    expect(counter.snapshot()).toEqual({ 'EC2:DescribeSubnets': 1, 'ELBv2:CreateLoadBalancer': 1, 'ELBv2:DescribeLoadBalancers': 1 });
    expect(counter.total()).toBe(3);
    expect(counter.mutating).toBe(1);
  });

  it('tracks peak concurrency of calls in flight', () => {
    const counter = new AwsCallCounter();
    const ends = [counter.begin('EC2', 'A'), counter.begin('EC2', 'B'), counter.begin('EC2', 'C')];
    expect(counter.inFlight).toBe(3);
    for (const end of ends) end('success');
    counter.begin('EC2', 'D')('success');
    expect(counter.peakConcurrency).toBe(3);
    expect(counter.inFlight).toBe(0);
  });

  it('reports each finished call to listeners', () => {
    const counter = new AwsCallCounter();
    const seen: string[] = [];
    const stop = counter.onCall((call) => seen.push(`${call.service}:${call.operation}:${call.outcome}`));
    counter.begin('ELBv2', 'RegisterTargets')('throttled');
    stop();
    counter.begin('ELBv2', 'RegisterTargets')('success');
    expect(seen).toEqual(['ELBv2:RegisterTargets:throttled']);
  });

  it('diffs snapshots', () => {
    expect(callsBetween({ 'EC2:A': 1 }, { 'EC2:A': 3, 'EC2:B': 1 })).toEqual({ 'EC2:A': 2, 'EC2:B': 1 });
  });

  it.each([
    ['CreateLoadBalancer', true],
    ['DeregisterTargets', true],
    ['AssignPrivateIpAddresses', true],
    ['DescribeTargetHealth', false],
    ['DescribeInstanceTypes', false],
  ])('%s mutating: %s', (operation, expected) => {
    expect(isMutating(operation)).toBe(expected);
  });
});
