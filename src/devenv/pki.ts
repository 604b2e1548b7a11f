// @peculiar/x509 resolves its ASN.1 helpers through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import { createPrivateKey, generateKeyPairSync, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** A certificate and its private key, both PEM. */
export interface KeyPairPem {
  cert: string;
  key: string;
}

export interface ClusterPki {
  ca: KeyPairPem;
  apiserver: KeyPairPem;
  /** Client certificates, by the identity they carry (CN, O). */
  admin: KeyPairPem;
  controllerManager: KeyPairPem;
  scheduler: KeyPairPem;
  kwok: KeyPairPem;
  /** The service-account token signing key pair (RSA, as every Kubernetes distribution uses). */
  serviceAccount: { publicKey: string; privateKey: string };
}

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const validDays = 365;

const newKeys = () => webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
const keyPem = (key: CryptoKey) =>
  KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
const serial = () => randomBytes(8).toString('hex').replace(/^[89a-f]/, '1');
const window = () => {
  const notBefore = new Date(Date.now() - 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + validDays * 86_400_000) };
};

async function createCa(): Promise<{ pem: KeyPairPem; cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=cloud-provider-localstack-ca',
    ...window(),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { pem: { cert: cert.toString('pem'), key: keyPem(keys.privateKey) }, cert, keys };
}

/** What signs: the CA's certificate, and its key pair (only the private key signs; the public one names it). */
interface SigningCa {
  cert: x509.X509Certificate;
  keys: { publicKey: CryptoKey; privateKey: CryptoKey };
}

async function issue(
  ca: SigningCa,
  subject: string,
  usage: 'server' | 'client',
  altNames: { dns: string[]; ip: string[] } = { dns: [], ip: [] },
): Promise<KeyPairPem> {
  const keys = await newKeys();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
  ];
  if (usage === 'server') {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        ...altNames.dns.map((value) => ({ type: 'dns' as const, value })),
        ...altNames.ip.map((value) => ({ type: 'ip' as const, value })),
      ]),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subject,
    ...window(),
    signingAlgorithm: algorithm,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions,
  });
  return { cert: cert.toString('pem'), key: keyPem(keys.privateKey) };
}

/** The CA as written to the state folder (PEM certificate and PKCS#8 key), ready to sign again. */
async function loadCa(ca: KeyPairPem): Promise<SigningCa> {
  const cert = new x509.X509Certificate(ca.cert);
  const der = createPrivateKey(ca.key).export({ type: 'pkcs8', format: 'der' });
  return {
    cert,
    keys: {
      publicKey: await cert.publicKey.export(algorithm, ['verify']),
      privateKey: await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']),
    },
  };
}

/**
 * A client certificate issued later by the environment's CA, for identities made while it runs (a networked
 * node's `CN=system:node:<name>, O=system:nodes`, kube-proxy's `CN=system:kube-proxy`).
 */
export async function issueClientCertificate(ca: KeyPairPem, subject: string): Promise<KeyPairPem> {
  return issue(await loadCa(ca), subject, 'client');
}

/** A fresh throwaway PKI for one local cluster: nothing here is meant to leave the machine. */
export async function createClusterPki(serviceIp: string): Promise<ClusterPki> {
  const ca = await createCa();
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    ca: ca.pem,
    apiserver: await issue(ca, 'CN=kube-apiserver', 'server', {
      dns: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      ip: ['127.0.0.1', serviceIp],
    }),
    admin: await issue(ca, 'CN=cloud-provider-localstack-admin, O=system:masters', 'client'),
    controllerManager: await issue(ca, 'CN=system:kube-controller-manager', 'client'),
    scheduler: await issue(ca, 'CN=system:kube-scheduler', 'client'),
    // kwok updates Nodes, Leases and Pod status for every node, as the kubelets would; the admin group keeps
    // it clear of the Node authorizer's per-node limits.
    kwok: await issue(ca, 'CN=kwok, O=system:masters', 'client'),
    serviceAccount: {
      publicKey: sa.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      privateKey: sa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    },
  };
}
