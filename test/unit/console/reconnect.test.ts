/** When the console's WebSocket tries again: never in a loop, however often it is refused. */
import { describe, expect, it } from 'vitest';
import { firstReconnectMs, maxReconnectMs, reconnectDelayMs } from '../../../console/reconnect.js';

describe('reconnectDelayMs', () => {
  it('doubles the wait with every failure in a row, up to five minutes', () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 8, 30].map((failures) => reconnectDelayMs(failures, 0.999_999));
    expect(waits).toEqual([3000, 6000, 12_000, 24_000, 48_000, 96_000, 192_000, maxReconnectMs, maxReconnectMs]);
  });

  it('jitters each wait down to half, so tabs refused together spread out', () => {
    expect(reconnectDelayMs(1, 0)).toBe(firstReconnectMs / 2);
    expect(reconnectDelayMs(4, 0.5)).toBe(18_000);
  });
});
