// The system Chromium and its WebGPU flags: defined once in scripts/chromium.mjs (plain JavaScript,
// which the page-driving scripts import too).
import { chromium, type Browser } from 'playwright';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.mjs';

export { chromiumArgs, chromiumPath };

/** Launches the system Chromium (headless) with the flags that give it a working navigator.gpu. */
export function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  return chromium.launch({ ...(executablePath ? { executablePath } : {}), args: chromiumArgs });
}
