import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // A process per test file, but for the unit project below: each e2e file starts its own local stack.
    pool: 'forks',
    // One file more than the machine has cores, at most 4. Vitest's default (cores - 1) ran one
    // file at a time on a 2-core machine, though e2e files spend most of their time waiting on real
    // time (a schedule's minute, a quiet-hours window, a send budget's seconds): measured on 2
    // cores, the suite took 688 s one file at a time, 381 s two at a time and 298 s three at a
    // time. At most 4, as each e2e file's stack takes 0.7-1.2 GB.
    maxWorkers: Math.min(availableParallelism() + 1, 4),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    setupFiles: ['test/setup.ts'],
    // Handlers log every step as JSON; in tests only warnings and errors are worth reading.
    env: { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN' },
    projects: [
      // Unit and infrastructure files each run in a worker thread of their own, which starts in a
      // fraction of a forked process's time: 223 files took 219 s as threads against 261 s as
      // forks on 2 cores (same run order, 3 at a time), most of a file's cost being its start and
      // imports, not its tests. Each thread has its own copy of the environment.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts'], pool: 'threads' } },
      // End-to-end files start local stacks, child processes and signals: a process each.
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
    ],
  },
});
