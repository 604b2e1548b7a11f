/**
 * The certificates TLS listeners are served with (ADR 0015): the data plane is the cloud's side, so it reads an
 * imported certificate's PEM and private key from the emulator's ACM through the plugin's door
 * (`GET /_cpl/certificate?arn=…`, localstack/cpl_emulator/tls_listeners.py), as ELBv2 reads ACM's on AWS. No AWS
 * API returns a private key, so this is not an SDK call. Kept by ARN; a failed read is tried again next time.
 */
export interface CertificateMaterial {
  /** The certificate followed by its chain, PEM. */
  cert: string;
  key: string;
}

export function certificateStore(emulatorEndpoint: string, log: (line: string) => void) {
  const known = new Map<string, CertificateMaterial>();
  return {
    /** The material of `arn`, or undefined when the emulator has none (logged once per attempt). */
    async get(arn: string): Promise<CertificateMaterial | undefined> {
      const cached = known.get(arn);
      if (cached) return cached;
      try {
        const response = await fetch(`${emulatorEndpoint}/_cpl/certificate?arn=${encodeURIComponent(arn)}`, { signal: AbortSignal.timeout(5000) });
        const body = (await response.json()) as { certificate?: string; chain?: string; privateKey?: string; error?: string };
        if (!response.ok || !body.certificate || !body.privateKey) {
          log(`certificate ${arn}: ${body.error ?? `HTTP ${response.status}`}`);
          return undefined;
        }
        const material = { cert: [body.certificate.trim(), body.chain?.trim()].filter(Boolean).join('\n') + '\n', key: body.privateKey };
        known.set(arn, material);
        return material;
      } catch (error) {
        log(`certificate ${arn}: ${(error as Error).message}`);
        return undefined;
      }
    },
  };
}

export type CertificateStore = ReturnType<typeof certificateStore>;
