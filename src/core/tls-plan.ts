import type { DesiredListener, Protocol } from './model.ts';
import type { Action, ActualListener } from './plan.ts';
import { sameAlpn, type ListenerTls } from './tls.ts';

/**
 * How a live listener's TLS settings reach the desired ones, as the LBC's listener manager does
 * (pkg/deploy/elbv2/listener_manager.go): one ModifyListener for protocol, default certificate, SSL policy and
 * ALPN (isSDKListenerSettingsDrifted), then the listed certificates synced with Add/RemoveListenerCertificates
 * (updateSDKListenerWithExtraCertificates: every certificate, the default one included, is listed). Pure.
 */

/** What a ModifyListener changes besides the target group. */
export interface ListenerSettings {
  protocol: Protocol;
  /** For a TLS listener: default certificate = certificates[0], policy, ALPN. */
  tls?: ListenerTls;
  /** ALPN turned off (`AlpnPolicy: ['None']`), the LBC's alpnNone when the annotation went away. */
  clearAlpn?: true;
}

/** ELBv2 changes a listener between TCP and TLS in place; other protocol changes replace it. */
export const modifiableInPlace = (from: Protocol, to: Protocol): boolean => (from === 'TCP' || from === 'TLS') && (to === 'TCP' || to === 'TLS');

/** The settings a ModifyListener must set, or undefined when the listener already has them. */
export function listenerSettingsChange(desired: DesiredListener, live: ActualListener): ListenerSettings | undefined {
  const tls = desired.tls;
  const alpnDrift = !sameAlpn(tls?.alpnPolicy, live.alpnPolicy);
  if (!tls) return live.protocol !== desired.protocol ? { protocol: desired.protocol } : undefined;
  const drifted = live.protocol !== desired.protocol || live.defaultCertificate !== tls.certificates[0] || live.sslPolicy !== tls.sslPolicy || alpnDrift;
  if (!drifted) return undefined;
  const clear = alpnDrift && !tls.alpnPolicy ? { clearAlpn: true as const } : {};
  return { protocol: desired.protocol, tls, ...clear };
}

/**
 * Add/Remove of listed certificates: every desired certificate listed, nothing else. A listener that is not
 * TLS yet lists none; one whose listed certificates were not read is left alone.
 */
export function listenerCertificateActions(desired: DesiredListener, live: ActualListener): Action[] {
  if (!desired.tls) return [];
  const current = live.protocol === 'TLS' ? live.listedCertificates : [];
  if (!current) return [];
  const want = new Set(desired.tls.certificates);
  const have = new Set(current);
  const remove = [...have].filter((arn) => !want.has(arn)).sort();
  const add = desired.tls.certificates.filter((arn, i, all) => !have.has(arn) && all.indexOf(arn) === i);
  return [
    ...(remove.length > 0 ? [{ kind: 'RemoveListenerCertificates' as const, arn: live.arn, port: live.port, certificates: remove }] : []),
    ...(add.length > 0 ? [{ kind: 'AddListenerCertificates' as const, arn: live.arn, port: live.port, certificates: add }] : []),
  ];
}

export function describeListenerSettings(settings: ListenerSettings): string {
  const tls = settings.tls;
  if (!tls) return settings.protocol;
  const alpn = tls.alpnPolicy ? `, ALPN ${tls.alpnPolicy}` : settings.clearAlpn ? ', ALPN None' : '';
  return `${settings.protocol} with certificate ${tls.certificates[0]}, policy ${tls.sslPolicy}${alpn}`;
}
