/** Cutting text to a provider's limit between characters, never inside one. */
import { describe, expect, it } from 'vitest';
import { cutText } from '../../../../shared/domain/text-cut.ts';
import type { TextLimits } from '../../../../shared/domain/text-cut.ts';

describe('cutText', () => {
  it.each([
    ['ASCII within both limits', 'hello', { maxCodePoints: 5, maxUtf8Bytes: 5 }],
    ['an emoji counted as one code point and four bytes', 'a😀', { maxCodePoints: 2, maxUtf8Bytes: 5 }],
  ])('leaves %s as it is', (_case, text, limits) => {
    expect(cutText(text, limits)).toBe(text);
  });

  it.each([
    ['by code points, the ellipsis counted', 'abcdef', { maxCodePoints: 4 }, 'abc…'],
    ['by UTF-8 bytes, the ellipsis counted as 3', 'абвгде', { maxUtf8Bytes: 9 }, 'абв…'],
    ['before an emoji that would straddle the limit, not inside it', 'ab😀cd', { maxCodePoints: 4 }, 'ab😀…'],
    ['before an emoji whose bytes would pass the limit', 'ab😀cd', { maxUtf8Bytes: 7 }, 'ab…'],
    ['by whichever limit comes first', 'ééééé', { maxCodePoints: 4, maxUtf8Bytes: 7 }, 'éé…'],
  ])('cuts %s', (_case, text, limits: TextLimits, expected) => {
    // Act
    const cut = cutText(text, limits);

    // Assess
    expect(cut).toBe(expected);
    expect(cut.isWellFormed()).toBe(true);
    expect([...cut].length).toBeLessThanOrEqual(limits.maxCodePoints ?? Infinity);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(limits.maxUtf8Bytes ?? Infinity);
  });

  it('cuts with another mark, counted as it is', () => {
    expect(cutText('abcdefgh', { maxCodePoints: 6 }, '...')).toBe('abc...');
    expect(cutText('абвгде', { maxUtf8Bytes: 9 }, '...')).toBe('абв...');
    expect(cutText('abcdef', { maxCodePoints: 6 }, '...')).toBe('abcdef');
    expect(() => cutText('abcdef', { maxCodePoints: 2 }, '...')).toThrow(RangeError);
  });

  it('refuses limits with no room for the ellipsis', () => {
    expect(() => cutText('abc', { maxUtf8Bytes: 2 })).toThrow(RangeError);
    expect(() => cutText('abc', { maxCodePoints: 0 })).toThrow(RangeError);
  });
});
