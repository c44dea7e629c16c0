// Types of console/reconnect.js, for the tests that import it (the browser loads the .js as is).
export const firstReconnectMs: number;
export const maxReconnectMs: number;
export function reconnectDelayMs(failures: number, random: number): number;
