/** Assertions shared by tests of calls that must fail with a classified error. */
import { expect } from 'vitest';
import { StorageError } from '../errors.js';

/** The StorageError `promise` rejects with; fails the test if it resolves or throws another. */
export async function storageFailure(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}
