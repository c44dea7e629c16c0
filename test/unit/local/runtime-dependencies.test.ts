/**
 * `npm install --omit=dev && npm start` works: every package that the local stack, its token and
 * redrive commands, the CLI and the functions import at run time is a dependency, not a
 * devDependency. The imports are followed from the entry points through the repository's files
 * (type-only imports are left out: they are erased).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

/** The packages imported at run time from `entries` and every repository file they reach. */
function runtimePackages(entries: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const specifiers = [
      ...[...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm)].map((m) => m[1]),
      ...[...source.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]),
      ...[...source.matchAll(/require\(\s*[`']([^`'$]+)/g)].map((m) => m[1]),
    ];
    for (const specifier of specifiers) {
      if (specifier === undefined || specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier);
        if (existsSync(target) && !target.endsWith('.d.ts')) visit(target);
        continue;
      }
      const parts = specifier.split('/');
      packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier));
    }
  };
  for (const entry of entries) visit(join(repoRoot, entry));
  return packages;
}

describe('the runtime dependencies', () => {
  it('hold every package npm start, npm run token, npm run redrive, npx herald and the functions import', () => {
    // Prepare
    const handlers = readdirSync(join(repoRoot, 'functions')).map((name) => `functions/${name}/handler.ts`);

    // Act
    const imported = runtimePackages(['local/main.ts', 'local/stack.ts', 'local/token-cli.ts', 'scripts/redrive.ts', 'cli/herald.ts', ...handlers]);

    // Assess: the walk found the emulators, and each is a dependency
    expect([...imported]).toEqual(expect.arrayContaining(['dynalite', 'fauxqs', 'aws-ses-v2-local', 'ws', 'luxon', '@aws-sdk/client-dynamodb-streams', 'commander', 'openapi-fetch']));
    expect([...imported].filter((name) => packageJson.dependencies[name] === undefined)).toEqual([]);
  });
});
