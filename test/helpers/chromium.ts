import { existsSync } from 'node:fs';

/** The system Chromium, which tests drive instead of a downloaded one (none can be downloaded here). */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.WEBRNN_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

/** True when the machine has a GPU device node, so Chromium should use the hardware adapter. */
function hasGpuDevice(): boolean {
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
