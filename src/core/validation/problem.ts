/**
 * What the validators return: the part of an annotation that is wrong (an entry `key=value`, a path, a
 * code list) and why. The parsers turn it into a UserError naming the annotation; the validators stay free
 * of it, so each is a table of AWS's or Kubernetes' rules and nothing else.
 */
export interface Problem {
  value: string;
  problem: string;
}

/** Longer values are cut in messages: a 10 KB annotation must not make a 10 KB event (the API caps them). */
const SHOWN_CHARACTERS = 100;

/** A value as a message shows it: quoted, and cut to its first 100 characters (with its length) when longer. */
export function quoted(value: string): string {
  if (value.length <= SHOWN_CHARACTERS) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, SHOWN_CHARACTERS))}… (${value.length} characters)`;
}

/** `key=value` of a map entry, as the user wrote it, for a Problem's value. */
export const entry = (key: string, value: string): string => `${key}=${value}`;

/** The first problem of a list of checks, or undefined. */
export function firstProblem(checks: Iterable<Problem | undefined>): Problem | undefined {
  for (const found of checks) if (found) return found;
  return undefined;
}
