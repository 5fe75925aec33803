import { describe, expect, it } from 'vitest';
import { StorageError, UsageError } from '../../errors.js';
import { callError, classifyS3Error, isPreconditionFailed, toStorageError } from './errors.js';

function sdkError(name: string, status?: number, message = `${name} happened`): Error {
  return Object.assign(new Error(message), {
    name,
    ...(status !== undefined ? { $metadata: { httpStatusCode: status } } : {}),
  });
}

function netError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyS3Error', () => {
  it.each([
    ['5xx', sdkError('InternalError', 500)],
    ['503 SlowDown', sdkError('SlowDown', 503)],
    ['throttling', sdkError('ThrottlingException', 400)],
    ['429', sdkError('Unknown', 429)],
    ['RequestTimeout', sdkError('RequestTimeout', 400)],
    ['TimeoutError', sdkError('TimeoutError')],
    ['ECONNRESET', netError('ECONNRESET', 'read ECONNRESET')],
    ['ETIMEDOUT', netError('ETIMEDOUT', 'connect ETIMEDOUT')],
    ['EPIPE', netError('EPIPE', 'write EPIPE')],
    ['socket hang up', new Error('socket hang up')],
    ['reset as cause', Object.assign(new Error('x'), { cause: netError('ECONNRESET', 'r') })],
    ['409 ConditionalRequestConflict', sdkError('ConditionalRequestConflict', 409)],
  ])('%s is retryable', (_label, err) => {
    expect(classifyS3Error(err)).toEqual({ isRetryable: true, isNotFound: false });
  });

  it.each([
    ['403', sdkError('AccessDenied', 403)],
    ['400 BadDigest', sdkError('BadDigest', 400)],
    ['NoSuchBucket', sdkError('NoSuchBucket', 404)],
    ['abort', sdkError('AbortError')],
    ['412 PreconditionFailed', sdkError('PreconditionFailed', 412)],
  ])('%s is permanent', (_label, err) => {
    expect(classifyS3Error(err).isRetryable).toBe(false);
  });

  it.each([
    ['NoSuchKey', sdkError('NoSuchKey', 404)],
    ['NotFound', sdkError('NotFound', 404)],
    ['NoSuchUpload', sdkError('NoSuchUpload', 404)],
  ])('%s is not-found', (_label, err) => {
    expect(classifyS3Error(err)).toEqual({ isRetryable: false, isNotFound: true });
  });

  it('does not take a missing bucket for a missing key', () => {
    expect(classifyS3Error(sdkError('NoSuchBucket', 404))).toEqual({
      isRetryable: false,
      isNotFound: false,
    });
  });
});

describe('toStorageError', () => {
  it('writes one line naming the operation, code and status', () => {
    const err = toStorageError(
      sdkError('SlowDown', 503, 'Please reduce your request rate.\nmore'),
      'uploading part 3 of b/k',
    );
    expect(err).toBeInstanceOf(StorageError);
    expect(err.message).toBe(
      'uploading part 3 of b/k: SlowDown (HTTP 503): Please reduce your request rate.',
    );
    expect((err as StorageError).isRetryable).toBe(true);
    expect(err.exitCode).toBe(5);
  });

  it('hints at credentials on 403', () => {
    const err = toStorageError(sdkError('InvalidAccessKeyId', 403), 'listing b/p');
    expect(err.hint).toMatch(/S3_KEY_ID/);
  });

  it('passes z3 errors through', () => {
    const usage = new UsageError('x');
    expect(toStorageError(usage, 'y')).toBe(usage);
  });

  it('names a socket error by its code', () => {
    expect(toStorageError(netError('ECONNRESET', 'read ECONNRESET'), 'op').message).toBe(
      'op: ECONNRESET: read ECONNRESET',
    );
  });
});

describe('callError', () => {
  it("rejects with the caller's abort reason, not a retryable reset", () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    const reset = netError('ECONNRESET', 'aborted');
    expect(callError(reset, 'op', controller.signal)).toBe(reason);
  });

  it('classifies the error when the signal was not aborted', () => {
    const err = callError(netError('ECONNRESET', 'r'), 'op', new AbortController().signal);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).isRetryable).toBe(true);
  });
});

describe('isPreconditionFailed', () => {
  it('is true for 412 PreconditionFailed, by name or by status, and false otherwise', () => {
    expect(isPreconditionFailed(sdkError('PreconditionFailed', 412))).toBe(true);
    expect(isPreconditionFailed(sdkError('Unknown', 412))).toBe(true);
    expect(isPreconditionFailed(sdkError('NoSuchKey', 404))).toBe(false);
    expect(isPreconditionFailed(new Error('PreconditionFailed?'))).toBe(false);
  });
});
