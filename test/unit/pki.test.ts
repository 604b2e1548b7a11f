import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createClusterPki, issueClientCertificate } from '../../src/devenv/pki.ts';
import { nodeSubject } from '../../src/devenv/vpc/identities.ts';

describe('client certificates issued later by the environment CA', () => {
  it('carry the node identity, are signed by the CA from its PEM files, and are client-only', async () => {
    const { ca, admin } = await createClusterPki('10.96.0.1');
    const issued = await issueClientCertificate(ca, nodeSubject('ip-10-0-1-5'));
    const cert = new X509Certificate(issued.cert);
    const caCert = new X509Certificate(ca.cert);
    expect(cert.subject.split('\n').sort()).toEqual(['CN=system:node:ip-10-0-1-5', 'O=system:nodes']);
    expect(cert.issuer).toBe(caCert.subject);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(issued.key))).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.ca).toBe(false);
    // Not the admin's key: each identity has a key pair of its own.
    expect(issued.key).not.toBe(admin.key);
  });

  it('names a bad CA', async () => {
    await expect(issueClientCertificate({ cert: 'not a certificate', key: 'nor a key' }, 'CN=x')).rejects.toThrow();
  });
});
