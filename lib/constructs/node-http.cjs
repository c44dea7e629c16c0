/* global module, process */
// `node:http` for the function bundles, as CommonJS (lib/constructs/herald-function.ts aliases
// `node:http` and `http` here). An ES module that imports `node:http` makes Node build the module's
// ESM facade, which reads every export, and `http.WebSocket` and its siblings are getters that load
// undici (fetch, WebSocket): 10-30 ms of a cold start for nothing. This is the same module object,
// taken without a facade.
module.exports = process.getBuiltinModule('node:http');
