// The system Chromium and the flags that give it a working navigator.gpu: one place for the tests
// (test/helpers/chromium.ts re-exports these), vite.config.ts and the scripts that drive pages
// (screenshot.mjs, bench-page.mjs). Plain JavaScript, so `node scripts/*.mjs` can import it.
import { existsSync } from 'node:fs';

/** The system Chromium, which tests drive instead of a downloaded one (none can be downloaded here). */
export function chromiumPath() {
  const candidates = [process.env.WEBRNN_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p) => !!p && existsSync(p));
}

/** True when the machine has a GPU device node, so Chromium should use the hardware adapter. */
function hasGpuDevice() {
  return existsSync('/dev/nvidia0') || existsSync('/dev/dri/renderD128');
}

/**
 * Chromium flags that give a working navigator.gpu on Linux. Without a GPU, SwiftShader (Vulkan on
 * the CPU) is forced; with one, Chromium picks the hardware adapter. The last three flags keep
 * Chromium from dialling out on a closed network.
 */
export const chromiumArgs = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  ...(hasGpuDevice() ? [] : ['--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader']),
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
