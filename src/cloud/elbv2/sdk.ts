/** Small helpers for ELBv2 requests and answers, shared by the adapter's modules. */

/** ARNs per DescribeTags call (the API's limit). */
export const TAG_CHUNK = 20;

export const errorName = (error: unknown): string => (error as { name?: string }).name ?? '';

/** `items` in slices of at most `size`: the ELBv2 APIs take 20 ARNs (200 targets) a call. */
export const chunks = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/** The call's answer, or undefined when it failed with one of `names` (e.g. a delete of something gone). */
export async function ignoring<T>(names: string[], call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (names.includes(errorName(error))) return undefined;
    throw error;
  }
}

/** `{ key: value }` as ELBv2's `[{ Key, Value }]`, for tags and attributes alike. */
export const keyValueList = (record: Record<string, string>) => Object.entries(record).map(([Key, Value]) => ({ Key, Value }));

/** ELBv2's `[{ Key, Value }]` (tags, attributes) as `{ key: value }`. */
export const keyValueRecord = (list: { Key?: string | undefined; Value?: string | undefined }[] | undefined): Record<string, string> =>
  Object.fromEntries((list ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
