import type { V1Service } from '@kubernetes/client-node';
import { ANNOTATION_PREFIX, UserError } from './annotations.ts';

/**
 * TLS listeners as the aws-load-balancer-controller builds them for a Service (pkg/service/model_build_listener.go,
 * buildListenerSpec / buildListenerConfig / buildListenerALPNPolicy). Pure, so every rule is a table test.
 *
 * A port's listener is TLS when it is not UDP or TCP_UDP, the Service names at least one certificate, and
 * `ssl-ports` is absent or names the port (by name or number). Its target group is TLS only with
 * `backend-protocol: ssl`. Certificates are ARNs taken as written (the LBC never asks ACM for a Service).
 */

export const TlsAnnotations = {
  certificates: `${ANNOTATION_PREFIX}ssl-cert`,
  ports: `${ANNOTATION_PREFIX}ssl-ports`,
  negotiationPolicy: `${ANNOTATION_PREFIX}ssl-negotiation-policy`,
  backendProtocol: `${ANNOTATION_PREFIX}backend-protocol`,
  alpnPolicy: `${ANNOTATION_PREFIX}alpn-policy`,
} as const;

/** The LBC's `--default-ssl-policy` (pkg/config/controller_config.go). */
export const DEFAULT_SSL_POLICY = 'ELBSecurityPolicy-2016-08';
export const ALPN_POLICIES = ['None', 'HTTP1Only', 'HTTP2Only', 'HTTP2Optional', 'HTTP2Preferred'] as const;
export type AlpnPolicy = (typeof ALPN_POLICIES)[number];

/** What a TLS listener carries besides its protocol. */
export interface ListenerTls {
  /** Certificate ARNs; the first is the listener's default, all of them are also its listed certificates. */
  certificates: string[];
  sslPolicy: string;
  /** Absent: no ALPN (ELBv2's `None`). */
  alpnPolicy?: AlpnPolicy;
}

/** The Service-wide TLS settings, read once. */
export interface TlsConfig {
  certificates: string[];
  /** Undefined: every port (the annotation is absent). */
  ports?: ReadonlySet<string>;
  sslPolicy: string;
  backendSsl: boolean;
  /** The alpn-policy annotation as written; checked only when some listener is TLS, as the LBC does. */
  rawAlpn?: string;
}

/** Every ELBv2 security policy's name has this form (ELBSecurityPolicy-2016-08, ELBSecurityPolicy-TLS13-1-2-2021-06, ...). */
const SSL_POLICY = /^ELBSecurityPolicy-[A-Za-z0-9-]+$/;
/** A certificate ELBv2 takes: ACM's or IAM's server certificates, in any partition. */
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:(acm:[a-z0-9-]+:\d{12}:certificate\/|iam::\d{12}:server-certificate\/)\S+$/;

/** The LBC's ParseStringSliceAnnotation: split on commas, trimmed, empties dropped. */
const stringList = (raw: string | undefined): string[] => (raw ?? '').split(',').map((item) => item.trim()).filter(Boolean);

export function tlsConfigOf(service: V1Service): TlsConfig {
  const annotations = service.metadata?.annotations ?? {};
  const rawPorts = annotations[TlsAnnotations.ports];
  const ports = rawPorts === undefined ? undefined : stringList(rawPorts);
  if (ports) {
    // validateTLSPortsSet: every entry must name a port of the Service; `*` is not a wildcard (annotations.md).
    const known = new Set((service.spec?.ports ?? []).flatMap((p) => [String(p.port), ...(p.name ? [p.name] : [])]));
    const unknown = ports.filter((entry) => !known.has(entry));
    if (unknown.length > 0) {
      const star = unknown.includes('*') ? ' (* matches no port: list port names or numbers)' : '';
      throw new UserError(`annotation ${TlsAnnotations.ports}`, rawPorts!, `names no port of the Service: ${unknown.join(', ')}${star}`);
    }
  }
  const policy = annotations[TlsAnnotations.negotiationPolicy]?.trim();
  // What AWS would refuse at CreateListener, after the NLB exists: caught here, before any write (ADR 0008).
  if (policy && !SSL_POLICY.test(policy)) {
    throw new UserError(`annotation ${TlsAnnotations.negotiationPolicy}`, annotations[TlsAnnotations.negotiationPolicy]!, 'must name an ELB security policy (ELBSecurityPolicy-…)');
  }
  const certificates = stringList(annotations[TlsAnnotations.certificates]);
  const notArn = certificates.find((arn) => !CERTIFICATE_ARN.test(arn));
  if (notArn !== undefined) {
    throw new UserError(`annotation ${TlsAnnotations.certificates}`, annotations[TlsAnnotations.certificates]!, `${notArn} is not an ACM or IAM certificate ARN`);
  }
  return {
    certificates,
    ...(ports ? { ports: new Set(ports) } : {}),
    sslPolicy: policy || DEFAULT_SSL_POLICY,
    // The LBC compares with "ssl" only; other values (the in-tree provider's `http`, `tcp`) mean TCP.
    backendSsl: annotations[TlsAnnotations.backendProtocol]?.trim() === 'ssl',
    ...(annotations[TlsAnnotations.alpnPolicy] !== undefined ? { rawAlpn: annotations[TlsAnnotations.alpnPolicy] } : {}),
  };
}

export interface TlsDecision<P extends string> {
  listenerProtocol: P | 'TLS';
  targetGroupProtocol: P | 'TLS';
  tls?: ListenerTls;
}

/**
 * The listener and target group protocols of one port number (its Service ports' names), with its TLS settings.
 * Only a TCP port becomes TLS: the LBC leaves UDP and TCP_UDP alone, and a QUIC port was UDP.
 */
export function tlsOfPort<P extends string>(config: TlsConfig, port: { port: number; names: string[] }, protocol: P): TlsDecision<P> {
  const named = !config.ports || config.ports.has(String(port.port)) || port.names.some((name) => config.ports!.has(name));
  if (protocol !== 'TCP' || config.certificates.length === 0 || !named) return { listenerProtocol: protocol, targetGroupProtocol: protocol };
  const alpnPolicy = alpnOf(config.rawAlpn);
  return {
    listenerProtocol: 'TLS',
    targetGroupProtocol: config.backendSsl ? 'TLS' : protocol,
    tls: { certificates: [...config.certificates], sslPolicy: config.sslPolicy, ...(alpnPolicy ? { alpnPolicy } : {}) },
  };
}

function alpnOf(raw: string | undefined): AlpnPolicy | undefined {
  if (raw === undefined) return undefined;
  // Compared as written, as the LBC does (no trimming).
  if (!(ALPN_POLICIES as readonly string[]).includes(raw)) {
    throw new UserError(`annotation ${TlsAnnotations.alpnPolicy}`, raw, `must be one of ${ALPN_POLICIES.join(', ')}`);
  }
  return raw as AlpnPolicy;
}

/** ELBv2's answer for no ALPN (`None`, or no policy at all) and ours (absent) compare equal. */
export const sameAlpn = (desired: AlpnPolicy | undefined, actual: readonly string[] | undefined): boolean => {
  const a = desired === undefined || desired === 'None' ? undefined : desired;
  const b = !actual || actual.length === 0 || actual[0] === 'None' ? undefined : actual[0];
  return a === b;
};
