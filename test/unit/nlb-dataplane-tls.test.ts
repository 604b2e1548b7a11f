import { describe, expect, it } from 'vitest';
import { desiredDataPlane, inUserspace, type LoadBalancerState, type NetworkFacts, type SslPolicyTerms, type TargetGroupState } from '../../src/dataplane/model.ts';
import { kernelForwarded } from '../../src/dataplane/nft.ts';

// TLS listeners in the NLB data plane (ADR 0015): served in userspace with the listener's certificates, never by
// nftables; re-encrypted to the targets when their group is TLS; ALPN policies as the protocols offered.

const facts: NetworkFacts = { instances: new Map([['i-a', { address: '10.0.64.10', zone: 'us-east-1a' }]]), subnets: [{ id: 'subnet-a', cidr: '10.0.64.0/18', zone: 'us-east-1a' }] };
const group = (protocol: string): TargetGroupState => ({ arn: `tg-${protocol}`, targetType: 'instance', protocol, port: 30443, attributes: {}, targets: [{ id: 'i-a', port: 30443, state: 'healthy' }] });
const loadBalancer = (listeners: LoadBalancerState['listeners']): LoadBalancerState => ({
  arn: 'lb-1',
  name: 'web',
  dnsName: 'web-1.us-east-1.elb.amazonaws.com',
  state: 'active',
  type: 'network',
  subnets: [{ subnetId: 'subnet-a', zone: 'us-east-1a' }],
  attributes: {},
  listeners,
});
const addresses = new Map([['lb-1', [{ subnetId: 'subnet-a', zone: 'us-east-1a', address: '10.0.64.200' }]]]);
const plane = (listeners: LoadBalancerState['listeners'], groups: TargetGroupState[]) =>
  desiredDataPlane([loadBalancer(listeners)], groups, addresses, facts, () => new Set(['i-a:30443']));

describe('TLS listeners in the data plane model', () => {
  it.each<[string, string, string | undefined, { certificateArns: string[]; backendTls: boolean; alpnProtocols: string[] }]>([
    ['TCP target group: plaintext to the targets', 'TCP', undefined, { certificateArns: ['cert-a', 'cert-b'], backendTls: false, alpnProtocols: [] }],
    ['TLS target group (backend-protocol ssl): re-encrypted', 'TLS', undefined, { certificateArns: ['cert-a', 'cert-b'], backendTls: true, alpnProtocols: [] }],
    ['ALPN HTTP2Preferred: h2 first', 'TCP', 'HTTP2Preferred', { certificateArns: ['cert-a', 'cert-b'], backendTls: false, alpnProtocols: ['h2', 'http/1.1'] }],
    ['ALPN None: none offered', 'TCP', 'None', { certificateArns: ['cert-a', 'cert-b'], backendTls: false, alpnProtocols: [] }],
  ])('%s', (_name, groupProtocol, alpnPolicy, tls) => {
    const listener = { arn: 'l-443', port: 443, protocol: 'TLS', targetGroupArn: `tg-${groupProtocol}`, certificates: ['cert-a', 'cert-b'], ...(alpnPolicy ? { alpnPolicy } : {}) };
    const [forwarded] = plane([listener], [group(groupProtocol)]).listeners;
    expect(forwarded).toMatchObject({ protocol: 'tcp', port: 443, address: '10.0.64.200', targets: [{ address: '10.0.64.10', port: 30443 }], tls });
  });

  it('the security policy\'s terms (DescribeSSLPolicies) become the versions and ciphers; none read: Node\'s defaults', () => {
    const policy = (sslPolicyTerms?: SslPolicyTerms) =>
      plane([{ arn: 'l-443', port: 443, protocol: 'TLS', targetGroupArn: 'tg-TCP', certificates: ['cert-a'], ...(sslPolicyTerms ? { sslPolicyTerms } : {}) }], [group('TCP')]).listeners[0]!.tls!.policy;
    expect(policy({ protocols: ['TLSv1.3'], ciphers: ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384'] })).toEqual({
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384',
    });
    expect(policy({ protocols: ['TLSv1.3', 'TLSv1.2'], ciphers: ['TLS_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'] })).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    // ELBSecurityPolicy-2016-08: TLS 1.0 to 1.2, which OpenSSL 3 allows only at security level 0.
    expect(policy({ protocols: ['TLSv1.2', 'TLSv1.1', 'TLSv1'], ciphers: ['ECDHE-RSA-AES128-SHA', 'AES128-SHA'] })).toEqual({
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-RSA-AES128-SHA:AES128-SHA:@SECLEVEL=0',
    });
    expect(policy({ protocols: ['SSLv3'], ciphers: [] })).toBeUndefined();
    expect(policy()).toBeUndefined();
  });

  it('TLS listeners are the userspace proxy\'s, never nftables\'; a TCP listener of the same NLB stays in the kernel', () => {
    const listeners = plane(
      [
        { arn: 'l-443', port: 443, protocol: 'TLS', targetGroupArn: 'tg-TCP', certificates: ['cert-a'] },
        { arn: 'l-80', port: 80, protocol: 'TCP', targetGroupArn: 'tg-TCP' },
      ],
      [group('TCP')],
    ).listeners;
    expect(listeners.filter(inUserspace).map((l) => l.port)).toEqual([443]);
    expect(kernelForwarded(listeners).map((l) => l.port)).toEqual([80]);
  });
});
