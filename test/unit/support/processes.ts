/**
 * Runs the repository's own commands in child processes, as a developer runs them from its root:
 * with its Node 24 (`node_modules/.bin` first on PATH), the output collected as it comes.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { join, resolve } from 'node:path';

/** The repository's root folder. */
export const repoRoot = resolve(import.meta.dirname, '..', '..', '..');

/** What a finished command said: its exit code (null when a signal ended it) and its output. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A command still running: its process, its output so far, and its exit code once it closes. */
export interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly output: { stdout: string; stderr: string };
  readonly exited: Promise<number | null>;
}

/** The environment a command of the repository runs in: this process's, with `env` over it. */
export function repoEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`, ...env };
}

/** Starts `command` (argv) in the repository's root with {@link repoEnv}; throws nothing (a spawn error rejects `exited`). */
export function spawnInRepo(command: readonly string[], env: Record<string, string> = {}): Running {
  const child = spawn(command[0] ?? 'node', command.slice(1), { cwd: repoRoot, env: repoEnv(env) });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output.stderr += chunk));
  const exited = new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', done);
  });
  return { child, output, exited };
}

/** Runs `command` (argv) in the repository's root to its end; resolves with its code and output. */
export async function runInRepo(command: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const running = spawnInRepo(command, env);
  const code = await running.exited;
  return { code, ...running.output };
}

/** `npm start` (local/main.ts) on free ports, with `env` over the defaults. */
export function startMain(env: Record<string, string> = {}): Running {
  return spawnInRepo(['node', 'local/main.ts'], { HERALD_HTTP_PORT: '0', HERALD_WS_PORT: '0', HERALD_SES_PORT: '0', HERALD_TELEGRAM_PORT: '0', ...env });
}
