import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { parseMetadata } from './pput.js';

describe('parseMetadata', () => {
  it('splits at the first = and keeps the rest of the value', () => {
    expect(parseMetadata(['ana=are+mere', 'dana=are=pere', 'Empty='])).toEqual({
      ana: 'are+mere',
      dana: 'are=pere',
      empty: '',
    });
  });

  it.each(['novalue', '=x'])('refuses %j with the original message', (pair) => {
    expect(() => parseMetadata([pair])).toThrow(
      new UsageError(`malformed metadata '${pair}'; should be key=value`),
    );
  });
});
