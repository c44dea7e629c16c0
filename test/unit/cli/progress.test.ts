/**
 * The CLI's progress (cli/progress.ts): a bar on a terminal; elsewhere one line per change, so
 * that a long `--wait` in a pipe or CI is never silent; nothing with `--json`.
 */
import { describe, expect, it } from 'vitest';
import { progressLabel } from '../../../cli/commands/broadcasts.ts';
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
});
