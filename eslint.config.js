import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

const focusedTests = [
  { selector: "CallExpression[callee.object.name=/^(it|describe|test)$/][callee.property.name=/^(only|skip)$/]", message: 'Focused or skipped tests are not allowed.' },
];

// Powertools Logger drops these keys of a line's attributes (its own fields), with no more than a
// warning: a refusal logged with `message` would lose its reason.
const reservedLogKeys = [
  {
    selector:
      "CallExpression[callee.property.name=/^(debug|info|warn|error|critical)$/] > ObjectExpression > Property[key.name=/^(level|message|sampling_rate|service|timestamp)$/]",
    message: 'Powertools Logger drops the keys level, message, sampling_rate, service and timestamp: name the attribute otherwise (e.g. reason).',
  },
];

// vi.waitFor and vi.waitUntil give up after 1 s by default: within 3× of what a wait on the local
// DynamoDB takes on a loaded 2-core machine, so such a test flakes (create-retry-dynalite.test.ts
// did, run six at once). Each says its bound.
const boundlessWaits = [
  {
    selector: "CallExpression[callee.object.name='vi'][callee.property.name=/^(waitFor|waitUntil)$/][arguments.length<2]",
    message: 'Give vi.waitFor/vi.waitUntil an explicit { timeout } over 3× the usual wait: the default 1 s flakes on a loaded machine.',
  },
];

export default tseslint.config(
  // console/vendor holds a third-party module vendored unchanged (console/vendor/htm-preact-standalone.js).
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', 'client/schema.d.ts', 'console/vendor/'] },
  eslint.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      // `_name` marks a deliberately unused binding (e.g. a key stripped from an item with rest syntax).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      'no-restricted-syntax': ['error', ...focusedTests, ...reservedLogKeys, ...boundlessWaits],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through shared/config.ts.' },
      ],
    },
  },
  {
    // Bundled into the functions: `import { z }` makes esbuild keep zod's whole namespace, every
    // locale table with it (~260 KB per bundle); `import * as z` lets it drop what is unused.
    files: ['functions/**', 'shared/**', 'lib/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...focusedTests,
        ...reservedLogKeys,
        {
          selector: "ImportDeclaration[source.value='zod'][importKind='value'] > :matches(ImportSpecifier[imported.name='z'], ImportDefaultSpecifier)",
          message: "Use `import * as z from 'zod'`: the named import bundles every zod locale.",
        },
        {
          // zod/mini loads no locale: through shared/zod-mini.ts its issues read in English, not "Invalid input".
          selector: "ImportDeclaration[source.value=/^zod\\/(v4\\/)?mini$/]",
          message: "Import zod/mini through shared/zod-mini.ts, which gives it zod's English messages.",
        },
      ],
    },
  },
  {
    files: ['shared/zod-mini.ts'],
    rules: { 'no-restricted-syntax': ['error', ...focusedTests, ...reservedLogKeys] },
  },
  {
    // The config module, the local stack (which plays the Lambda environment), the CDK app, the CLI and the tests may touch process.env.
    files: ['shared/config.ts', 'local/**', 'bin/**', 'test/**', 'scripts/**', 'cli/**', 'client/example.ts', 'vitest.config.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // The console runs in the browser as plain ES modules, with no build step.
    files: ['console/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'fetch', 'FormData', 'URLSearchParams', 'sessionStorage', 'atob', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'WebSocket'].map((name) => [name, 'readonly']),
      ),
    },
  },
);
