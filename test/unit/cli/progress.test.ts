/**
 * The CLI's progress (cli/progress.ts): a bar on a terminal; elsewhere one line per change, so
 * that a long `--wait` in a pipe or CI is never silent; nothing with `--json`.
 */
import { describe, expect, it } from 'vitest';
import type { HeraldClient } from '../../../client/index.ts';
import { follow, hasFinished, progressLabel } from '../../../cli/commands/broadcasts.ts';
import { progressBar } from '../../../cli/progress.ts';

/** A stand-in for stderr that keeps what was written. */
function stream(isTTY: boolean): { isTTY: boolean; written: string[]; write(text: string): boolean } {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) > 0 };
}

describe('progress', () => {
  it('off a terminal, writes one line each time the figures change, and none when they do not', () => {
    // Prepare
    const out = stream(false);
    const bar = progressBar('brd_1', false, out);

    // Act
    bar.update(0, 2, 'sending');
    bar.update(0, 2, 'sending');
    bar.update(1, 2, 'sending, 1 held by quiet hours');
    bar.update(2, 2, 'completed');
    bar.stop();

    // Assess
    expect(out.written).toEqual(['brd_1: 0/2 sending\n', 'brd_1: 1/2 sending, 1 held by quiet hours\n', 'brd_1: 2/2 completed\n']);
  });

  it('writes nothing when quiet (--json), on a terminal or not', () => {
    // Prepare
    const outs = [stream(false), stream(true)];

    // Act
    for (const out of outs) {
      const bar = progressBar('recipients', true, out);
      bar.update(1, 2);
      bar.stop();
    }

    // Assess
    expect(outs.map((out) => out.written)).toEqual([[], []]);
  });

  it("labels a broadcast's progress with its status, and with the recipients its quiet hours hold", () => {
    // Prepare
    const progress = { total: 3, sent: 1, failed: 0, cancelled: 0, pending: 2, held: 0, percent: 33 };

    // Act
    const labels = [progressLabel({ status: 'sending', progress }), progressLabel({ status: 'sending', progress: { ...progress, held: 2 } })];

    // Assess
    expect(labels).toEqual(['sending', 'sending, 2 held by quiet hours']);
  });

  it('follows a broadcast cancelled mid-run until its last recipient has settled, so --wait prints final figures', () => {
    // Prepare
    const started = '2030-01-01T12:00:00.000Z';
    const cases = [
      { status: 'cancelled', startedAt: started, completedAt: null },
      { status: 'cancelled', startedAt: started, completedAt: '2030-01-01T12:00:09.000Z' },
      { status: 'cancelled', startedAt: null, completedAt: null },
      { status: 'sending', startedAt: started, completedAt: null },
      { status: 'completed', startedAt: started, completedAt: '2030-01-01T12:00:09.000Z' },
      { status: 'failed', startedAt: started, completedAt: '2030-01-01T12:00:09.000Z' },
    ] as const;

    // Act
    const finished = cases.map((b) => hasFinished(b));

    // Assess
    expect(finished).toEqual([false, true, true, false, true, true]);
  });

  it('keeps following a broadcast cancelled mid-run and answers its settled figures, not those of the cancel', async () => {
    // Prepare
    const base = { id: 'brd_1', startedAt: '2030-01-01T12:00:00.000Z' };
    const reads = [
      { ...base, status: 'sending', completedAt: null, progress: { total: 4, sent: 1, failed: 0, cancelled: 0, pending: 3, held: 0, percent: 25 } },
      { ...base, status: 'cancelled', completedAt: null, progress: { total: 4, sent: 2, failed: 0, cancelled: 0, pending: 2, held: 0, percent: 50 } },
      { ...base, status: 'cancelled', completedAt: '2030-01-01T12:00:09.000Z', progress: { total: 4, sent: 2, failed: 0, cancelled: 2, pending: 0, held: 0, percent: 100 } },
    ];
    let read = 0;
    const client = { GET: async () => Promise.resolve({ data: reads[Math.min(read++, reads.length - 1)], response: new Response() }) } as unknown as HeraldClient;

    // Act
    const followed = await follow(client, 'brd_1', { quiet: true, intervalMs: 0 });

    // Assess
    expect(followed.progress).toMatchObject({ cancelled: 2, pending: 0 });
    expect(read).toBe(3);
  });

  it('stops following when interrupted, with the last state it read', async () => {
    // Prepare: a broadcast that never ends (its recipients held by quiet hours), and an
    // interrupt while the follow waits after its first read
    const sending = { id: 'brd_1', status: 'sending', startedAt: '2030-01-01T12:00:00.000Z', completedAt: null, progress: { total: 2, sent: 1, failed: 0, cancelled: 0, pending: 1, held: 1, percent: 50 } };
    const interrupt = new AbortController();
    let read = 0;
    const client = {
      GET: async () => {
        read++;
        if (read === 1) setTimeout(() => interrupt.abort(), 10);
        return Promise.resolve({ data: sending, response: new Response() });
      },
    } as unknown as HeraldClient;

    // Act: polling every minute, so only the interrupt can end the wait
    const followed = await follow(client, 'brd_1', { quiet: true, intervalMs: 60_000, signal: interrupt.signal });

    // Assess
    expect(followed).toMatchObject({ id: 'brd_1', status: 'sending' });
    expect(read).toBe(1);
  });
});
