import { UserError } from '../../../src/core/annotations.ts';

/** The UserError `fn` throws; anything else thrown, or nothing, fails the test. */
export function thrownUserError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected a UserError');
}
