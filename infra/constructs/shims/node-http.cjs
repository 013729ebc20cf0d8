/**
 * `node:http` for the Lambda bundles (ESBUILD_ALIAS in ../defaults.ts): the module object itself,
 * from `process.getBuiltinModule` (a `require` here would be aliased back to this file).
 *
 * An ES module import of `node:http` makes Node build the module's ESM facade, which reads every
 * export — among them the lazy `WebSocket`, `CloseEvent` and `MessageEvent`, whose first read
 * loads Node's own undici: tens of milliseconds of a cold start, for classes nothing here uses.
 * Through this CommonJS module, importers get the real module object (the X-Ray SDK patches its
 * `request` and `get`), and esbuild's interop reads no export until one is asked for.
 */
module.exports = process.getBuiltinModule('node:http');
