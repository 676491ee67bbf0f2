// The system Chromium and its WebGPU flags: defined once in scripts/chromium.mjs (plain JavaScript,
// which the page-driving scripts import too).
export { chromiumArgs, chromiumPath } from '../../scripts/chromium.mjs';
