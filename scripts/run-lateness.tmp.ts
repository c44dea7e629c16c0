import { latenessBench } from './bench/lateness.ts';
process.exit(await latenessBench());
