import { Annotations, boolAnnotation, keyValues, reject, UserError } from './annotations.ts';
import { LOAD_BALANCER_ATTRIBUTES, loadBalancerAttributesProblem, valueProblem } from './validation/attributes.ts';

type AnnotationMap = Record<string, string> | undefined;

/**
 * The NLB's attributes as the LBC's buildLoadBalancerAttributes builds them: the `attributes` map, then the
 * deprecated single-purpose annotations on top (getAnnotationSpecificLbAttributes, merged first so they win):
 * `cross-zone-load-balancing-enabled` whenever present, the `access-log-*` ones only when access logs are on
 * (`access-log-enabled: "false"` leaves the map's access_logs.* alone).
 */
export function loadBalancerAttributesOf(annotations: AnnotationMap): Record<string, string> {
  const fromMap = keyValues(annotations, Annotations.attributes);
  reject(Annotations.attributes, loadBalancerAttributesProblem(fromMap));
  const specific: Record<string, string> = {};
  if (boolAnnotation(annotations, Annotations.accessLogEnabled) === true) {
    specific['access_logs.s3.enabled'] = 'true';
    const bucket = annotations?.[Annotations.accessLogBucket];
    if (bucket !== undefined) specific['access_logs.s3.bucket'] = checked(Annotations.accessLogBucket, 'access_logs.s3.bucket', bucket);
    const prefix = annotations?.[Annotations.accessLogPrefix];
    if (prefix !== undefined) specific['access_logs.s3.prefix'] = checked(Annotations.accessLogPrefix, 'access_logs.s3.prefix', prefix);
  }
  const crossZone = boolAnnotation(annotations, Annotations.crossZoneLoadBalancing);
  if (crossZone !== undefined) specific['load_balancing.cross_zone.enabled'] = String(crossZone);
  const merged = { ...fromMap, ...specific };
  if (merged['access_logs.s3.enabled'] === 'true' && !merged['access_logs.s3.bucket']) {
    // AWS: "This attribute is required if access logs are enabled"; name the annotation that turned them on.
    const key = specific['access_logs.s3.enabled'] ? Annotations.accessLogEnabled : Annotations.attributes;
    throw new UserError(`annotation ${key}`, annotations![key]!, `access logs need a bucket (${Annotations.accessLogBucket} or access_logs.s3.bucket in ${Annotations.attributes})`);
  }
  return merged;
}

/** A single-purpose annotation's value, checked against the attribute it becomes. */
function checked(annotation: string, attribute: string, value: string): string {
  const problem = valueProblem(LOAD_BALANCER_ATTRIBUTES[attribute]!, value);
  if (problem) throw new UserError(`annotation ${annotation}`, value, `${attribute} ${problem}`);
  return value;
}

/**
 * `minimum-load-balancer-capacity: CapacityUnits=N` as the LBC's buildLoadBalancerMinimumCapacity reads it
 * (gate LBCapacityReservation, on by default): the only key is CapacityUnits, a 32-bit whole number (0 resets
 * the reservation; AWS takes no negative). Undefined when absent: removing the annotation leaves the
 * reservation as it is, as in the LBC (its docs: set 0 to reset).
 */
export function minimumCapacityOf(annotations: AnnotationMap): number | undefined {
  const key = Annotations.minimumCapacity;
  if (annotations?.[key] === undefined) return undefined;
  let units: number | undefined;
  for (const [name, value] of Object.entries(keyValues(annotations, key))) {
    if (name !== 'CapacityUnits') throw new UserError(`annotation ${key}`, annotations[key], `invalid key to set the capacity: ${name}, Expected key: CapacityUnits`);
    if (!/^\d+$/.test(value) || Number(value) > 2 ** 31 - 1) throw new UserError(`annotation ${key}`, annotations[key], `invalid value to set the capacity: ${JSON.stringify(value)} (a whole number of capacity units)`);
    units = Number(value);
  }
  return units;
}
