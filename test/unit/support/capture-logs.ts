/** What Herald's logger writes during a test. */
import { vi } from 'vitest';
import { logger } from '../../../shared/observability/logger.ts';

/**
 * Captures what the logger writes (stdout, and stderr for warnings and errors) while `act` runs,
 * at DEBUG level: one parsed JSON object a line. The level is left at DEBUG; reset it after.
 */
export async function captureLogs(act: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    lines.push(...String(chunk).split('\n').filter((l) => l.trim() !== ''));
    return true;
  };
  const writes = [vi.spyOn(process.stdout, 'write').mockImplementation(capture), vi.spyOn(process.stderr, 'write').mockImplementation(capture)];
  logger.setLogLevel('DEBUG');
  try {
    await act();
  } finally {
    for (const write of writes) write.mockRestore();
  }
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}
