// When the console's WebSocket tries again after a connection that failed or closed. A browser is
// not told why a handshake was refused (the WebSocket API gives only an error and a close, 1006):
// the user may have the most connections allowed open (429: 100, many tabs), the token may have
// expired, or the network is down. So every failure in a row doubles the wait, jittered so that
// tabs refused together do not come back together, and an open connection starts again from the
// first wait. Trying every few seconds for ever would keep a refused user at their limit.

/** The first wait, in ms, after a connection closed or failed. */
export const firstReconnectMs = 3000;
/** The longest wait, in ms, between two tries. */
export const maxReconnectMs = 5 * 60 * 1000;

/**
 * The wait before the next try after `failures` failures in a row (1, 2, ...), in ms: doubling from
 * {@link firstReconnectMs} up to {@link maxReconnectMs}, times 0.5-1 by `random` (in [0, 1)).
 * @param {number} failures
 * @param {number} random
 * @returns {number}
 */
export function reconnectDelayMs(failures, random) {
  const doubled = Math.min(maxReconnectMs, firstReconnectMs * 2 ** Math.max(0, failures - 1));
  return Math.round(doubled * (0.5 + random / 2));
}
