/**
 * The apiserver identities of the VPC's node-side processes (ADR 0011, addendum): each node agent gets a
 * kubeconfig of its own with `CN=system:node:<node>, O=system:nodes`, so the Node authorizer and NodeRestriction
 * admission hold it to what that node's kubelet may do (its Node and Lease, the pods bound to it and their
 * status); kube-proxy gets `CN=system:kube-proxy`, which the default RBAC policy binds to system:node-proxier.
 * Issued by the environment's CA (read from the state folder) while the VPC runs; a node's goes with the node.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { renderKubeconfig } from '../kubeconfig.ts';
import { statePaths } from '../paths.ts';
import { issueClientCertificate, type KeyPairPem } from '../pki.ts';
import { apiserverUrl } from '../settings.ts';

/** The user a kubelet of `nodeName` authenticates as (what the Node authorizer recognises). */
export const nodeUser = (nodeName: string): string => `system:node:${nodeName}`;
export const nodeSubject = (nodeName: string): string => `CN=${nodeUser(nodeName)}, O=system:nodes`;
export const KUBE_PROXY_USER = 'system:kube-proxy';

/** The CA `up` wrote (environment.ts ensurePki). */
const readCa = (): KeyPairPem => ({
  cert: readFileSync(join(statePaths.pki, 'ca.crt'), 'utf8'),
  key: readFileSync(join(statePaths.pki, 'ca.key'), 'utf8'),
});

/**
 * A kubeconfig for `user` at `path` (mode 0600, the key is inside). Its server is https://127.0.0.1:<apiserver
 * port>: on the host that is the apiserver, inside a node's namespace the agent's relay to it.
 */
async function writeIdentity(path: string, subject: string, user: string): Promise<void> {
  const ca = readCa();
  const client = await issueClientCertificate(ca, subject);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderKubeconfig({ server: apiserverUrl, caPem: ca.cert, client, user }), { mode: 0o600 });
}

export const writeNodeKubeconfig = (path: string, nodeName: string): Promise<void> => writeIdentity(path, nodeSubject(nodeName), nodeUser(nodeName));

export const writeKubeProxyKubeconfig = (path: string): Promise<void> => writeIdentity(path, `CN=${KUBE_PROXY_USER}`, KUBE_PROXY_USER);

export const removeKubeconfig = (path: string): void => rmSync(path, { force: true });
