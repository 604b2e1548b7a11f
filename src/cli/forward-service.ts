import { forwardThroughDoor, type Forward } from '../devenv/vpc/door.ts';
import { connect } from '../testing/environment.ts';
import { resolveInVpc, serviceLoadBalancer } from '../testing/traffic.ts';

/** `[LOCAL_PORT:]PORT` of `forward service NS/NAME [LOCAL_PORT:]PORT`. */
export function parsePortSpec(spec: string): { localPort: number; port: number } {
  const match = /^(?:(\d+):)?(\d+)$/.exec(spec);
  const localPort = Number(match?.[1] ?? 0);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535 || localPort > 65535) {
    throw new Error(`${JSON.stringify(spec)} is not [LOCAL_PORT:]PORT (e.g. 80 or 8080:80; ports 1-65535)`);
  }
  return { localPort, port };
}

export function parseServiceKey(key: string): { namespace: string; name: string } {
  const [namespace, name, extra] = key.split('/');
  if (!namespace || !name || extra !== undefined) throw new Error(`${JSON.stringify(key)} is not NAMESPACE/NAME`);
  return { namespace, name };
}

/**
 * `forward service NS/NAME [LOCAL_PORT:]PORT`: carries TCP from 127.0.0.1 to the Service's NLB listener on PORT,
 * as `kubectl port-forward` does for a pod, through the VPC's door to one of the NLB's addresses.
 */
export async function forwardService(stateDir: string, key: string, spec: string, onError: (error: Error) => void): Promise<Forward & { target: string }> {
  const service = parseServiceKey(key);
  const { localPort, port } = parsePortSpec(spec);
  const env = connect(stateDir);
  try {
    const lb = await serviceLoadBalancer(env, service, 30_000);
    const listeners = (await env.core.readNamespacedService(service)).spec?.ports?.map((p) => p.port) ?? [];
    if (!listeners.includes(port)) throw new Error(`Service ${key} has no port ${port} (its ports: ${listeners.join(', ') || 'none'})`);
    // What a client in the VPC gets for the NLB's name: zones with a healthy target (DNS failover).
    const [address] = await resolveInVpc(env, lb.dnsName);
    const target = `${address}:${port}`;
    const forward = await forwardThroughDoor(stateDir, target, localPort, onError);
    return { ...forward, target: `${lb.dnsName} (${target})` };
  } finally {
    env.close();
  }
}
