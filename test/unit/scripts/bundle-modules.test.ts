/**
 * What the bundles bench counts as a cold start's modules (scripts/bench/bundles.ts): the entry and
 * the chunks it imports statically, transitively, as esbuild writes them minified; not a chunk
 * only `import()` reaches, nor an import-like string, nor a built-in or an external package.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modulesLoadedAtInit, packageModules } from '../../../scripts/bench/bundles.ts';

describe('modulesLoadedAtInit', () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'herald-bundle-modules-'));
    const modules: Record<string, string> = {
      'index.mjs': [
        'import{a as b}from"./chunk-named.mjs";',
        'import*as n from"./chunk-namespace.mjs";',
        'import"./chunk-side-effect.mjs";',
        'export{c}from"./chunk-reexport.mjs";',
        'import{readFileSync as r}from"node:fs";',
        'import"@aws-sdk/credential-provider-ini";',
        'const s=\'from "./chunk-in-a-string.mjs"\',t=`import"./chunk-in-a-template.mjs"`;',
        'export const handler=async()=>(await import("./chunk-lazy.mjs")).go(b,n,r,s,t);',
      ].join(''),
      'chunk-named.mjs': 'import{d}from"./chunk-shared.mjs";export const a=d;',
      'chunk-namespace.mjs': 'export const x=1;',
      'chunk-side-effect.mjs': 'globalThis.y=1;',
      'chunk-reexport.mjs': 'import{d}from"./chunk-shared.mjs";export const c=d;',
      'chunk-shared.mjs': 'export const d=1;',
      'chunk-lazy.mjs': 'import{d}from"./chunk-shared.mjs";import"./chunk-lazy-only.mjs";export const go=()=>d;',
      'chunk-lazy-only.mjs': 'export const z=1;',
    };
    await Promise.all(Object.entries(modules).map(([name, code]) => writeFile(join(directory, name), code)));
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('follows static imports and re-exports of sibling chunks, entry first, each once', () => {
    // Act
    const loaded = modulesLoadedAtInit(join(directory, 'index.mjs')).map((file) => file.slice(directory.length + 1));

    // Assess
    expect(loaded).toEqual(['index.mjs', 'chunk-named.mjs', 'chunk-namespace.mjs', 'chunk-side-effect.mjs', 'chunk-reexport.mjs', 'chunk-shared.mjs']);
  });

  it('lists every module of the package, the lazily loaded ones too', () => {
    // Act
    const all = packageModules(join(directory, 'index.mjs')).map((file) => file.slice(directory.length + 1));

    // Assess
    expect(all.sort()).toEqual(
      ['chunk-lazy-only.mjs', 'chunk-lazy.mjs', 'chunk-named.mjs', 'chunk-namespace.mjs', 'chunk-reexport.mjs', 'chunk-shared.mjs', 'chunk-side-effect.mjs', 'index.mjs'].sort(),
    );
  });
});
