/**
 * TLS through a Service's NLB, for tests of Services with `aws-load-balancer-ssl-cert`: a throwaway CA and a
 * server certificate for the NLBs' DNS names (loadBalancerNames), imported into the emulator's
 * ACM, and an HTTPS GET through the NLB from the VPC's bastion that verifies the answer against that CA (curl
 * --cacert), as a client in the VPC would. The NLB's data plane terminates TLS with the imported key (ADR 0015).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCertificateCommand, ImportCertificateCommand } from '@aws-sdk/client-acm';
import type { VpcHttpResponse } from '../devenv/vpc/door.ts';
import type { TestEnvironment } from './environment.ts';
import { serviceLoadBalancer, type ServiceRef } from './traffic.ts';
import { vpcExec } from './vpc.ts';

export interface TestCertificate {
  /** The CA that signed the server certificate (PEM): give it to clients (curl --cacert). */
  caPem: string;
  certificatePem: string;
  privateKeyPem: string;
  /** The names the certificate is valid for. */
  names: string[];
}

const openssl = (args: string[], cwd: string): void => {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args[0]}: ${result.error?.message ?? result.stderr.trim()}`);
};

/**
 * The names of a region's NLBs: AWS's `<name>-<id>.elb.<region>.amazonaws.com` and the emulator's (moto's)
 * `<name>-1.<region>.elb.amazonaws.com` (docs/emulator.md).
 */
export const loadBalancerNames = (region: string): string[] => [`*.elb.${region}.amazonaws.com`, `*.${region}.elb.amazonaws.com`];

/** A CA and a server certificate it signed for `names` (default: every NLB DNS name of the region), valid a day. */
export function createTestCertificate(region: string, names: readonly string[] = loadBalancerNames(region)): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'cpl-tls-'));
  try {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=cloud-provider-localstack test CA'], dir);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${names[0]}`], dir);
    writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf'], dir);
    const read = (file: string) => readFileSync(join(dir, file), 'utf8');
    return { caPem: read('ca.pem'), certificatePem: read('server.pem'), privateKeyPem: read('server.key'), names: [...names] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Imports the certificate (with its CA as the chain) into the environment's ACM; returns its ARN and a remover. */
export async function importTestCertificate(env: TestEnvironment, certificate: TestCertificate): Promise<{ arn: string; remove: () => Promise<void> }> {
  const encode = (pem: string) => new TextEncoder().encode(pem);
  const imported = await env.aws.acm.send(
    new ImportCertificateCommand({ Certificate: encode(certificate.certificatePem), PrivateKey: encode(certificate.privateKeyPem), CertificateChain: encode(certificate.caPem) }),
  );
  const arn = imported.CertificateArn!;
  return { arn, remove: async () => void (await env.aws.acm.send(new DeleteCertificateCommand({ CertificateArn: arn }))) };
}

export interface HttpsOptions {
  /** The CA to verify the NLB's certificate with (PEM). */
  caPem: string;
  /** The listener port (default 443). */
  port?: number;
  path?: string;
  timeoutMs?: number;
  /** Offer exactly this TLS version (curl --tlsv1.X --tls-max 1.X): to test the listener's security policy. */
  tlsVersion?: '1.2' | '1.3';
}

/**
 * One HTTPS GET through the Service's NLB by its DNS name from the VPC's bastion (curl --cacert): the name is
 * resolved by the VPC's resolver and the certificate is verified for it. A TLS or connection failure throws,
 * naming curl's error.
 */
export async function httpsThroughLoadBalancer(env: TestEnvironment, service: ServiceRef, options: HttpsOptions): Promise<VpcHttpResponse> {
  const lb = await serviceLoadBalancer(env, service);
  const dir = mkdtempSync(join(tmpdir(), 'cpl-tls-ca-'));
  try {
    // The bastion shares the host's files (only its network is the VPC's).
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, options.caPem);
    const url = `https://${lb.dnsName}:${options.port ?? 443}${options.path ?? '/'}`;
    const seconds = String(Math.max(1, Math.ceil((options.timeoutMs ?? 5000) / 1000)));
    const version = options.tlsVersion ? [`--tlsv${options.tlsVersion}`, '--tls-max', options.tlsVersion] : [];
    const result = await vpcExec(['curl', '-sS', ...version, '--cacert', caFile, '-m', seconds, '-w', '\n%{http_code}', url], { stateDir: env.stateDir, timeoutMs: (options.timeoutMs ?? 5000) + 5000 });
    if (result.code !== 0) throw new Error(`${url}: curl exit ${result.code}: ${result.stderr.trim()}`);
    const cut = result.stdout.lastIndexOf('\n');
    return { status: Number(result.stdout.slice(cut + 1)), body: result.stdout.slice(0, cut) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
