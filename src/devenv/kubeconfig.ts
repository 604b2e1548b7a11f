import { stringify } from 'yaml';
import type { KeyPairPem } from './pki.ts';

const b64 = (pem: string) => Buffer.from(pem).toString('base64');

/** A self-contained kubeconfig (certificates embedded) for one client identity. */
export function renderKubeconfig(opts: { server: string; caPem: string; client: KeyPairPem; user: string; context?: string }): string {
  const context = opts.context ?? 'cloud-provider-localstack';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: context, cluster: { server: opts.server, 'certificate-authority-data': b64(opts.caPem) } }],
    users: [{ name: opts.user, user: { 'client-certificate-data': b64(opts.client.cert), 'client-key-data': b64(opts.client.key) } }],
    contexts: [{ name: context, context: { cluster: context, user: opts.user } }],
    'current-context': context,
  });
}
