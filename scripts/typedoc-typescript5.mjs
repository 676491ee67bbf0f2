// Preloaded by `npm run docs` (node --import) so that TypeDoc gets a TypeScript it can use.
// TypeDoc reads the sources through TypeScript's JavaScript compiler API; the repository's
// typescript@7 is the Go port and has none, and TypeDoc's peer range stops at 6.0. So TypeScript 5.9
// is installed beside it under an npm alias (`typescript5`), and TypeDoc's own imports of
// `typescript` are resolved to that copy; every other import is left alone. package.json's
// `overrides` lets npm accept TypeDoc's peer dependency on `typescript` with the repository's 7.
import { register } from 'node:module';

register('./typedoc-typescript5-hooks.mjs', import.meta.url);
