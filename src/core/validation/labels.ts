import { entry, type Problem } from './problem.ts';

/**
 * Kubernetes label syntax, for `target-node-labels`: a selector no Node label can match is a mistake to
 * report, not a Service with no targets. Rules of k8s.io/apimachinery/pkg/util/validation (IsQualifiedName,
 * IsValidLabelValue): key = [prefix/]name, prefix a DNS-1123 subdomain of at most 253 characters, name at
 * most 63 alphanumerics, '-', '_' or '.' starting and ending alphanumeric; value empty or like a name.
 */
const NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const MAX_NAME = 63;
const MAX_PREFIX = 253;
const NAME_RULE = `at most ${MAX_NAME} letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > MAX_PREFIX || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key prefix ${JSON.stringify(prefix)} must be a DNS subdomain: at most ${MAX_PREFIX} lowercase letters, digits, '-' or '.'`;
  }
  if (name.length > MAX_NAME || !NAME.test(name)) return `label key name ${JSON.stringify(name)} must be ${NAME_RULE}`;
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  return value.length > MAX_NAME || !NAME.test(value) ? `label value must be empty or ${NAME_RULE}` : undefined;
}

/** The first `key=value` of a label selector that is not valid label syntax, or undefined. */
export function labelSelectorProblem(selector: Record<string, string>): Problem | undefined {
  for (const [key, value] of Object.entries(selector)) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem) return { value: entry(key, value), problem };
  }
  return undefined;
}
