/**
 * A progress bar on stderr (cli-progress), drawn only on a terminal and never with `--json`, so
 * that stdout stays the answer and a pipe gets no escape codes.
 */
import { Presets, SingleBar } from 'cli-progress';

export interface ProgressBar {
  update(done: number, total: number, label?: string): void;
  stop(): void;
}

/** A bar titled `title`; a no-op when `quiet` or when stderr is not a terminal. */
export function progressBar(title: string, quiet: boolean): ProgressBar {
  if (quiet || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    { format: `${title} [{bar}] {percentage}% | {value}/{total} {label}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
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
