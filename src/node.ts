/**
 * webrnn in Node: the main entry's API, with `acquireGpu` (and so `WebGPUBackend.create`) taking
 * its device from Dawn's `webgpu` package. The package's `node` export condition resolves
 * `import 'webrnn'` here; browsers get ./index.ts, which has no Node-only import.
 * @packageDocumentation
 */
import { installNodeGpu } from './gpu/node-adapter.ts';

installNodeGpu();

export * from './index.ts';
