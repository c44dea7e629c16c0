// Said by npm install (preinstall, postinstall): the repository's .npmrc keeps npm silent, so a
// fresh install would otherwise print nothing for most of a minute. Plain JavaScript: it runs on
// the Node that starts npm (any version), before node_modules and Node 24 exist.
import { argv, stderr } from 'node:process';

const messages = {
  before: 'Herald: installing Node 24, the AWS SDK, the CDK and the local emulators (about a minute on a fresh clone; npm itself stays quiet, see .npmrc)...',
  after: 'Herald: installed. Next: npm start (then open http://127.0.0.1:3000/), npx herald --help, or npm test.',
};
stderr.write(`${messages[argv[2] === 'after' ? 'after' : 'before']}\n`);
