import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { defaultsOf, FlagError, lbcDefaultOptions, type RunFlags } from '../../src/cli/run-command.ts';

// --feature-gates as the run (and plan) command parses it: commander's option, then controllerDefaults.
const parse = (...argv: string[]) => defaultsOf(lbcDefaultOptions(new Command()).exitOverride().parse(argv, { from: 'user' }).opts<RunFlags>());

describe('run --feature-gates', () => {
  it('absent: the LBC defaults', () => {
    expect(parse().featureGates).toEqual({ EnableDefaultTagsLowPriority: false, EnableIPTargetType: true });
  });

  it('given twice, both count and a later setting wins (pflag calls Set per occurrence)', () => {
    expect(parse('--feature-gates=EnableDefaultTagsLowPriority=true', '--feature-gates', 'EnableIPTargetType=false,EnableDefaultTagsLowPriority=false').featureGates).toEqual({
      EnableDefaultTagsLowPriority: false,
      EnableIPTargetType: false,
    });
  });

  it('a bad entry is a FlagError naming the flag and the entry', () => {
    expect(() => parse('--feature-gates=EnableIPTargetType=maybe')).toThrow(FlagError);
    expect(() => parse('--feature-gates=EnableIPTargetType=maybe')).toThrow('--feature-gates: invalid value "EnableIPTargetType=maybe"');
  });
});
