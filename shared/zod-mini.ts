/**
 * zod's tree-shakable API (`zod/mini`: functions instead of methods), with zod's English messages.
 * The schemas every function parses at run time (configuration, the events Lambda hands over, the
 * tokens' claims) are written with it: zod's classic API brings ~85 KB of methods into any bundle
 * that makes one schema, zod/mini only what is used. The HTTP API's request and response schemas
 * stay classic (`zod`), for their OpenAPI metadata.
 *
 * Import it as `import * as z from '<path>/zod-mini.ts'`, never `zod/mini` itself: zod/mini loads no
 * locale, so without the `config` below its issues would all read "Invalid input".
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
