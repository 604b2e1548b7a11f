import {
  AddListenerCertificatesCommand,
  CreateListenerCommand,
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LoadBalancerCloud } from '../../src/cloud/elbv2.ts';
import { readListeners } from '../../src/cloud/elbv2/read-stack.ts';
import type { LoadBalancerAction as Action } from '../../src/core/plan.ts';

// The ELBv2 requests of TLS listeners (ADR 0015), as the LBC's listener manager sends them.

const LB_ARN = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/lb/1';
const TG_ARN = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/tg/1';
const LISTENER_ARN = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener/net/lb/1/l1';
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const tls = { certificates: ['arn:cert-a', 'arn:cert-b'], sslPolicy: 'ELBSecurityPolicy-2016-08' };
const newCloud = () => new LoadBalancerCloud(new ElasticLoadBalancingV2Client({}), 'c1');
const inputs = (command: Parameters<typeof elbv2.commandCalls>[0]) => elbv2.commandCalls(command).map((call) => call.args[0].input);

beforeEach(() => {
  elbv2.reset();
  elbv2.onAnyCommand().resolves({});
  elbv2.on(CreateListenerCommand).resolves({ Listeners: [{ ListenerArn: LISTENER_ARN }] });
});

describe('TLS listeners in the ELBv2 adapter', () => {
  it('CreateListener carries the default certificate, policy and ALPN; then every certificate is listed', async () => {
    const action: Action = { kind: 'CreateListener', loadBalancer: { arn: LB_ARN }, port: 443, protocol: 'TLS', targetGroup: { arn: TG_ARN }, tls: { ...tls, alpnPolicy: 'HTTP2Preferred' } };
    await newCloud().apply('ns/web', 'vpc-1', [action]);
    expect(inputs(CreateListenerCommand)).toEqual([
      {
        LoadBalancerArn: LB_ARN,
        Port: 443,
        Protocol: 'TLS',
        DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_ARN }],
        Certificates: [{ CertificateArn: 'arn:cert-a' }],
        SslPolicy: 'ELBSecurityPolicy-2016-08',
        AlpnPolicy: ['HTTP2Preferred'],
      },
    ]);
    expect(inputs(AddListenerCertificatesCommand)).toEqual([{ ListenerArn: LISTENER_ARN, Certificates: [{ CertificateArn: 'arn:cert-a' }, { CertificateArn: 'arn:cert-b' }] }]);
  });

  it.each<[string, Action, object]>([
    ['TCP to TLS in place, no target group change', { kind: 'ModifyListener', arn: LISTENER_ARN, port: 443, settings: { protocol: 'TLS', tls } }, { Protocol: 'TLS', Certificates: [{ CertificateArn: 'arn:cert-a' }], SslPolicy: 'ELBSecurityPolicy-2016-08' }],
    ['ALPN removed: None', { kind: 'ModifyListener', arn: LISTENER_ARN, port: 443, settings: { protocol: 'TLS', tls, clearAlpn: true } }, { Protocol: 'TLS', Certificates: [{ CertificateArn: 'arn:cert-a' }], SslPolicy: 'ELBSecurityPolicy-2016-08', AlpnPolicy: ['None'] }],
    ['back to TCP', { kind: 'ModifyListener', arn: LISTENER_ARN, port: 443, settings: { protocol: 'TCP' } }, { Protocol: 'TCP' }],
    ['with a target group switch', { kind: 'ModifyListener', arn: LISTENER_ARN, port: 443, targetGroup: { arn: TG_ARN }, settings: { protocol: 'TLS', tls } }, { DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_ARN }], Protocol: 'TLS', Certificates: [{ CertificateArn: 'arn:cert-a' }], SslPolicy: 'ELBSecurityPolicy-2016-08' }],
  ])('ModifyListener: %s', async (_name, action, expected) => {
    await newCloud().apply('ns/web', 'vpc-1', [action]);
    expect(inputs(ModifyListenerCommand)).toEqual([{ ListenerArn: LISTENER_ARN, ...expected }]);
  });

  it('reads a TLS listener\'s default certificate, policy, ALPN and listed certificates (the default one left out)', async () => {
    elbv2.on(DescribeListenersCommand).resolves({
      Listeners: [
        { ListenerArn: LISTENER_ARN, Port: 443, Protocol: 'TLS', Certificates: [{ CertificateArn: 'arn:cert-a' }], SslPolicy: 'ELBSecurityPolicy-2016-08', AlpnPolicy: ['HTTP2Only'], DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_ARN }] },
        { ListenerArn: `${LISTENER_ARN}-80`, Port: 80, Protocol: 'TCP', DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_ARN }] },
      ],
    });
    elbv2.on(DescribeListenerCertificatesCommand).resolves({ Certificates: [{ CertificateArn: 'arn:cert-a', IsDefault: true }, { CertificateArn: 'arn:cert-a', IsDefault: false }, { CertificateArn: 'arn:cert-b', IsDefault: false }] });
    const listeners = await readListeners(new ElasticLoadBalancingV2Client({}), [{ LoadBalancerArn: LB_ARN }]);
    expect(listeners.map(({ port, protocol, defaultCertificate, sslPolicy, alpnPolicy, listedCertificates }) => ({ port, protocol, defaultCertificate, sslPolicy, alpnPolicy, listedCertificates }))).toEqual([
      { port: 443, protocol: 'TLS', defaultCertificate: 'arn:cert-a', sslPolicy: 'ELBSecurityPolicy-2016-08', alpnPolicy: ['HTTP2Only'], listedCertificates: ['arn:cert-a', 'arn:cert-b'] },
      { port: 80, protocol: 'TCP', defaultCertificate: undefined, sslPolicy: undefined, alpnPolicy: undefined, listedCertificates: undefined },
    ]);
    // One DescribeListenerCertificates per TLS listener, none for TCP ones.
    expect(inputs(DescribeListenerCertificatesCommand)).toEqual([{ ListenerArn: LISTENER_ARN }]);
  });
});
