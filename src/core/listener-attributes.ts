import { ANNOTATION_PREFIX, keyValues, UserError } from './annotations.ts';
import type { Protocol } from './model.ts';
import { entry } from './validation/problem.ts';

/**
 * The LBC's `listener-attributes.<PROTOCOL>-<port>` annotations (buildListenerAttributes): one map per
 * listener, named by the listener's final protocol (TCP_UDP, TLS, QUIC after merging and upgrades) and port.
 * Checked as ELBv2 takes them, so nothing it would refuse reaches a write: an NLB listener has one attribute,
 * `tcp.idle_timeout.seconds` (API reference, ListenerAttribute: "The valid range is 60-6000 seconds. The
 * default is 350 seconds"), on TCP listeners only (NLB guide, Update idle timeout: the attribute tab is
 * absent for other protocols; "The connection idle timeout for TLS listeners is 350 seconds and can't be
 * modified").
 */
export const LISTENER_ATTRIBUTES_ANNOTATION = `${ANNOTATION_PREFIX}listener-attributes`;

export const listenerAttributesKey = (protocol: Protocol, port: number): string => `${LISTENER_ATTRIBUTES_ANNOTATION}.${protocol}-${port}`;

const IDLE_TIMEOUT = 'tcp.idle_timeout.seconds';
const IDLE_TIMEOUT_RANGE = { min: 60, max: 6000 };

/** The attributes the Service sets on the listener `protocol`:`port` ({} without the annotation). */
export function listenerAttributesOf(annotations: Record<string, string> | undefined, port: number, protocol: Protocol): Record<string, string> {
  const key = listenerAttributesKey(protocol, port);
  const attributes = keyValues(annotations, key);
  for (const [name, value] of Object.entries(attributes)) {
    const fail = (problem: string) => {
      throw new UserError(`annotation ${key}`, entry(name, value), problem);
    };
    if (name !== IDLE_TIMEOUT) fail(`${name} is not a listener attribute of a Network Load Balancer; known: ${IDLE_TIMEOUT}`);
    if (protocol === 'TLS') fail(`the idle timeout of a TLS listener is fixed at 350 seconds and cannot be modified`);
    if (protocol !== 'TCP') fail(`${IDLE_TIMEOUT} is an attribute of TCP listeners only, not ${protocol}`);
    const seconds = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!(seconds >= IDLE_TIMEOUT_RANGE.min && seconds <= IDLE_TIMEOUT_RANGE.max)) {
      fail(`${IDLE_TIMEOUT} must be a whole number from ${IDLE_TIMEOUT_RANGE.min} to ${IDLE_TIMEOUT_RANGE.max}`);
    }
  }
  return attributes;
}

/**
 * listener-attributes annotations that name no listener of the Service (a typo, or TCP-80 when ports 80/TCP
 * and 80/UDP became one TCP_UDP listener): the LBC ignores them silently; we name them in a Warning.
 */
export function strayListenerAttributeAnnotations(annotations: Record<string, string> | undefined, listeners: { port: number; protocol: Protocol }[]): string[] {
  const known = new Set(listeners.map((l) => listenerAttributesKey(l.protocol, l.port)));
  return Object.keys(annotations ?? {}).filter((key) => key.startsWith(`${LISTENER_ATTRIBUTES_ANNOTATION}.`) && !known.has(key)).sort();
}
