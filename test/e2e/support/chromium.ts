/** Debian's Chromium for the console's browser tests (driven by playwright-core). */
import { execFileSync } from 'node:child_process';

/** The path of `chromium`, or an error saying how to install it (`.ci/run` does when it is missing). */
export function chromiumPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('The console test needs Chromium: apt-get update && apt-get install -y chromium (.ci/run does this when it is missing)');
  }
}
