// Said by npm install (preinstall, postinstall): the repository's .npmrc keeps npm silent, so a
// fresh install would otherwise print nothing for most of a minute. Plain JavaScript: it runs on
// the Node that starts npm (any version), before node_modules and Node 24 exist.
import { argv, env, stderr } from 'node:process';

// npm passes `--omit=dev` on to its scripts as npm_config_omit: then neither the CDK nor the
// test runner is installed, and only the local stack and the CLI are there to try.
const withoutDev = (env.npm_config_omit ?? '').split(/[\s,]+/).includes('dev');
const messages = withoutDev
  ? {
      before: 'Herald: installing Node 24, the AWS SDK and the local emulators, without the development tools (npm itself stays quiet, see .npmrc)...',
      after: 'Herald: installed, without the development tools. Next: npm start (then open http://127.0.0.1:3000/), or npx herald --help.',
    }
  : {
      before: 'Herald: installing Node 24, the AWS SDK, the CDK and the local emulators (about a minute on a fresh clone; npm itself stays quiet, see .npmrc)...',
      after: 'Herald: installed. Next: npm start (then open http://127.0.0.1:3000/), npx herald --help, or npm test.',
    };
stderr.write(`${messages[argv[2] === 'after' ? 'after' : 'before']}\n`);
