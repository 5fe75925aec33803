import { describe, expect, it } from 'vitest';
import { objectSize } from './range.js';

describe('objectSize (Content-Range)', () => {
  it('reads the total after the slash', () => {
    expect(objectSize('bytes 0-9/100')).toBe(100);
    expect(objectSize('bytes 5242879-5242883/5242884')).toBe(5_242_884);
  });

  it('is undefined when the server does not know or does not say', () => {
    expect(objectSize('bytes 0-9/*')).toBeUndefined();
    expect(objectSize(undefined)).toBeUndefined();
    expect(objectSize('')).toBeUndefined();
  });
});
