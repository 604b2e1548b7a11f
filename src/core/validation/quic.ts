import { Annotations } from '../annotations.ts';
import type { Problem } from './problem.ts';

/**
 * Where AWS takes a QUIC or TCP_QUIC listener ("Create a listener for your Network Load Balancer", prerequisites):
 * not on a load balancer with security groups, not on a dualstack one, one per load balancer, and never beside a
 * UDP or TCP_UDP listener. Checked before any write: CreateListener would refuse it after the NLB exists.
 */
export function quicListenersProblem(input: {
  listeners: readonly { port: number; protocol: string }[];
  securityGroups: boolean;
  dualstack: boolean;
  quicPorts: string;
}): Problem | undefined {
  const quic = input.listeners.filter((l) => l.protocol === 'QUIC' || l.protocol === 'TCP_QUIC');
  if (quic.length === 0) return undefined;
  const ports = quic.map((l) => l.port).join(', ');
  const value = input.quicPorts;
  if (input.securityGroups) {
    return { value, problem: `QUIC listeners (port ${ports}) are not allowed on a load balancer with security groups; set ${Annotations.disableNlbSecurityGroup}: "true"` };
  }
  if (input.dualstack) return { value, problem: `QUIC listeners (port ${ports}) are not allowed on a dualstack load balancer` };
  if (quic.length > 1) return { value, problem: `only one QUIC or TCP_QUIC listener is allowed on a load balancer (ports ${ports})` };
  const udp = input.listeners.filter((l) => l.protocol === 'UDP' || l.protocol === 'TCP_UDP').map((l) => l.port);
  if (udp.length > 0) return { value, problem: `a QUIC listener is not allowed beside UDP or TCP_UDP listeners (port ${udp.join(', ')})` };
  return undefined;
}
