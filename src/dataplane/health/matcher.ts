/**
 * The HTTP/HTTPS health check's success codes (ELBv2 Matcher.HttpCode for NLBs): one code, a list ("200,202"),
 * a range ("200-299") or a list of both; 200-599 allowed; default 200-399.
 */

export const DEFAULT_HTTP_MATCHER = '200-399';

/** A predicate over status codes, or an error naming the matcher. */
export function parseMatcher(matcher: string | undefined): (status: number) => boolean {
  const text = (matcher ?? '').trim() || DEFAULT_HTTP_MATCHER;
  const ranges = text.split(',').map((part) => {
    const match = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(part);
    const low = Number(match?.[1]);
    const high = Number(match?.[2] ?? match?.[1]);
    if (!match || low < 200 || high > 599 || low > high) {
      throw new Error(`health check matcher ${JSON.stringify(matcher)}: expected codes 200-599 as "200", "200,202" or "200-299"`);
    }
    return [low, high] as const;
  });
  return (status) => ranges.some(([low, high]) => status >= low && status <= high);
}
