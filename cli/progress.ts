/**
 * Progress on stderr, never with `--json`, so that stdout stays the answer: a bar (cli-progress)
 * on a terminal, and elsewhere (a pipe, a file, CI) one plain line each time the figures change,
 * so that a long wait is never silent and a pipe gets no escape codes.
 */
import { Presets, SingleBar } from 'cli-progress';

export interface ProgressBar {
  update(done: number, total: number, label?: string): void;
  stop(): void;
}

/** Where progress is written: stderr, or a stand-in for it in tests. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Progress titled `title` on `stream`: a bar on a terminal, else a line `title: done/total label`
 * whenever one of those changed; nothing when `quiet`.
 */
export function progressBar(title: string, quiet: boolean, stream: ProgressStream = process.stderr): ProgressBar {
  if (quiet) return { update: () => undefined, stop: () => undefined };
  if (stream.isTTY !== true) return progressLines(title, stream);
  const bar = new SingleBar(
    { format: `${title} [{bar}] {percentage}% | {value}/{total} {label}`, stream: stream as NodeJS.WritableStream, hideCursor: true, clearOnComplete: false },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update: (done, total, label = '') => {
      if (!started) {
        bar.start(Math.max(total, 1), done, { label });
        started = true;
      }
      bar.setTotal(Math.max(total, 1));
      bar.update(done, { label });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** One line per change of the figures, for a stream that is not a terminal. */
function progressLines(title: string, stream: ProgressStream): ProgressBar {
  let last: string | undefined;
  return {
    update: (done, total, label = '') => {
      const line = `${title}: ${done}/${total}${label ? ` ${label}` : ''}`;
      if (line === last) return;
      last = line;
      stream.write(`${line}\n`);
    },
    stop: () => undefined,
  };
}
