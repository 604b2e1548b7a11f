import { Annotations, goBool, keyValues, reject, UserError } from './annotations.ts';
import { targetGroupAttributesProblem } from './validation/attributes.ts';
import type { Problem } from './validation/problem.ts';

type AnnotationMap = Record<string, string> | undefined;

const PROXY_PROTOCOL = 'proxy_protocol_v2.enabled';
const PRESERVE_CLIENT_IP = 'preserve_client_ip.enabled';

/**
 * Attributes every target group is given unless the Service asks otherwise, as the LBC does
 * (buildTargetGroupAttributes): removing the proxy-protocol annotation turns proxy protocol off again. They are
 * also ELBv2's values for a new target group, so a new group is not modified to get them.
 */
export const TARGET_GROUP_DEFAULT_ATTRIBUTES: Readonly<Record<string, string>> = { [PROXY_PROTOCOL]: 'false' };

/** The per-port annotation: `target-group-attributes.<Service port>`. */
export const portAttributesKey = (port: number): string => `${Annotations.targetGroupAttributes}.${port}`;

/**
 * One target group's attributes as the LBC's buildTargetGroupAttributes builds them (model_build_target_group.go):
 * the default, the `target-group-attributes` map, the port's own map on top (an empty value there keeps the
 * base's), then `proxy-protocol-per-target-group` (listed ports on, the others off), then `proxy-protocol: "*"`,
 * which wins. Every map is checked against AWS's rules for the group's protocol, naming the annotation it came from.
 */
export function targetGroupAttributesOf(annotations: AnnotationMap, port: number, protocol: string): Record<string, string> {
  const base = parsed(annotations, Annotations.targetGroupAttributes);
  const portKey = portAttributesKey(port);
  const own = Object.fromEntries(Object.entries(parsed(annotations, portKey)).filter(([, value]) => value !== ''));
  const attributes: Record<string, string> = { ...TARGET_GROUP_DEFAULT_ATTRIBUTES, ...base, ...own };
  const found = targetGroupAttributesProblem({ ...base, ...own }, protocol);
  if (found) reject(Object.hasOwn(own, keyOf(found)) ? portKey : Annotations.targetGroupAttributes, found);

  const perGroup = annotations?.[Annotations.proxyProtocolPerTargetGroup];
  if (perGroup !== undefined) attributes[PROXY_PROTOCOL] = String(proxyProtocolPorts(perGroup).has(port));
  const proxyProtocol = annotations?.[Annotations.proxyProtocol];
  if (proxyProtocol !== undefined) {
    if (proxyProtocol.trim() !== '*') throw new UserError(`annotation ${Annotations.proxyProtocol}`, proxyProtocol, 'the only supported value is *');
    attributes[PROXY_PROTOCOL] = 'true';
  }
  // The LBC drops an empty proxy_protocol_v2.enabled (the default then stays whatever the group has).
  if (attributes[PROXY_PROTOCOL] === '') delete attributes[PROXY_PROTOCOL];
  return attributes;
}

/** `"80, 443"`: the Service ports whose groups get proxy protocol; a non-number is an error (the LBC's strconv.Atoi). */
function proxyProtocolPorts(raw: string): Set<number> {
  const ports = new Set<number>();
  for (const item of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    if (!/^[+-]?\d+$/.test(item)) throw new UserError(`annotation ${Annotations.proxyProtocolPerTargetGroup}`, raw, `${JSON.stringify(item)} is not a port number`);
    ports.add(Number(item));
  }
  return ports;
}

/** A map annotation; preserve_client_ip.enabled must parse as a Go bool (the LBC's validateAndParseAttributes). */
function parsed(annotations: AnnotationMap, key: string): Record<string, string> {
  const map = keyValues(annotations, key);
  const preserve = map[PRESERVE_CLIENT_IP];
  if (preserve !== undefined && goBool(preserve) === undefined) {
    throw new UserError(`annotation ${key}`, annotations![key]!, `${PRESERVE_CLIENT_IP} must be true or false`);
  }
  return map;
}

const keyOf = (found: Problem): string => found.value.slice(0, Math.max(0, found.value.indexOf('=')));
