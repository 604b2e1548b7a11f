import { entry, type Problem } from './problem.ts';

/**
 * AWS's limits on the tags of a load balancer, target group or listener, so `additional-resource-tags` is
 * checked before the first write: the tags go into CreateLoadBalancer/CreateTargetGroup, where one bad tag
 * fails the create, or into AddTags after other writes succeeded.
 *
 * Sources: botocore's elbv2 model (TagKey: 1-128 characters, TagValue: 0-256, both of
 * ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$) and the NLB guide, "Tag a Network Load Balancer" / "Tag a target group"
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/load-balancer-tags.html): at most 50 tags
 * per resource; "Do not use the aws: prefix in your tag names or values because it is reserved for AWS use."
 */
export const TAG_LIMITS = {
  maxKeyLength: 128,
  maxValueLength: 256,
  maxPerResource: 50,
  reservedPrefix: 'aws:',
} as const;

const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const ALLOWED = 'letters, digits, spaces and _ . : / = + - @';

/** Characters, not UTF-16 units: AWS counts Unicode characters. */
const length = (text: string): number => [...text].length;

function tagProblem(key: string, value: string): string | undefined {
  if (key.toLowerCase().startsWith(TAG_LIMITS.reservedPrefix)) return `tag key ${JSON.stringify(key)} uses the prefix aws:, which AWS reserves`;
  if (value.toLowerCase().startsWith(TAG_LIMITS.reservedPrefix)) return `tag value of ${key} uses the prefix aws:, which AWS reserves`;
  if (length(key) > TAG_LIMITS.maxKeyLength) return `tag key is ${length(key)} characters; AWS allows at most ${TAG_LIMITS.maxKeyLength}`;
  if (length(value) > TAG_LIMITS.maxValueLength) return `tag value of ${key} is ${length(value)} characters; AWS allows at most ${TAG_LIMITS.maxValueLength}`;
  if (!TAG_CHARACTERS.test(key)) return `tag key may hold only ${ALLOWED}`;
  if (!TAG_CHARACTERS.test(value)) return `tag value of ${key} may hold only ${ALLOWED}`;
  return undefined;
}

/**
 * The first tag AWS would refuse, or too many of them. `ownTags` is how many tags the controller adds to
 * the same resource (they count towards the 50).
 */
export function tagsProblem(tags: Record<string, string>, ownTags: number): Problem | undefined {
  for (const [key, value] of Object.entries(tags)) {
    const problem = tagProblem(key, value);
    if (problem) return { value: entry(key, value), problem };
  }
  const allowed = TAG_LIMITS.maxPerResource - ownTags;
  const count = Object.keys(tags).length;
  if (count > allowed) {
    return {
      value: `${count} tags`,
      problem: `at most ${allowed} tags: AWS allows ${TAG_LIMITS.maxPerResource} per resource and the controller sets ${ownTags} of its own`,
    };
  }
  return undefined;
}
