/**
 * Dawn's Node bindings (the `webgpu` package) wait for the device by polling: while any of their
 * promises is pending (mapAsync, popErrorScope, onSubmittedWorkDone) they hand the global
 * `setImmediate` a native callback that processes Dawn's events and queues itself again. That is a
 * busy loop: one CPU core at 100 % for as long as the device works, and a stream of short-lived
 * functions for the garbage collector. On a software adapter the core it takes is one the shaders
 * need (the app's training step took 1.7–2× the wall time with it on the 2-core machine, bench/RESULTS.md);
 * on a GPU it is a core the baselines' worker threads need.
 *
 * {@link throttleDawnPump} lets the pump spin for a moment at the start of each wait (short waits
 * stay as fast as before), then puts its callbacks on a 1 ms timer: the same events are processed,
 * in the same order, up to a millisecond later. Nothing else's `setImmediate` changes. The Node
 * adapter (./node-adapter.ts) installs it when the adapter is a software one, where the device's
 * work runs on the CPU; on a GPU a wait is not slowed by the poll, and timings keep their latency.
 */

/** Milliseconds a wait polls at full speed before the pump is put on a timer. */
export const SPIN_MS = 2;
/** A gap between two pump callbacks longer than this starts a new wait (and a new spin). */
export const NEW_WAIT_MS = 5;

/**
 * The pump's policy, given a clock: called at each pump callback, whether it runs at once
 * (`immediate`, while the wait is younger than `spinMs`) or on a 1 ms timer.
 */
export function pumpPolicy(now: () => number, spinMs = SPIN_MS, newWaitMs = NEW_WAIT_MS): () => 'immediate' | 'timer' {
  let waitStart = -Infinity;
  let last = -Infinity;
  return () => {
    const t = now();
    if (t - last > newWaitMs) waitStart = t;
    last = t;
    return t - waitStart < spinMs ? 'immediate' : 'timer';
  };
}

/** Whether `fn` is Dawn's pump callback: a native function without a name (the bindings' `Napi::Function::New`). */
export function isDawnPump(fn: unknown): boolean {
  return typeof fn === 'function' && fn.name === '' && Function.prototype.toString.call(fn).includes('[native code]');
}

let installed = false;
/** Pump callbacks put on a timer so far (tests check that Dawn's callback is recognised). */
export const pumpStats = { immediate: 0, timer: 0 };

/**
 * Wraps the global `setImmediate` so that Dawn's pump follows {@link pumpPolicy}; every other
 * caller's callback is passed through unchanged. Idempotent.
 */
export function throttleDawnPump(): void {
  if (installed) return;
  installed = true;
  const immediate = globalThis.setImmediate;
  const policy = pumpPolicy(() => performance.now());
  const wrapped = (fn: (...args: unknown[]) => void, ...args: unknown[]) => {
    if (!isDawnPump(fn)) return immediate(fn, ...args);
    if (policy() === 'immediate') {
      pumpStats.immediate++;
      return immediate(fn, ...args);
    }
    pumpStats.timer++;
    return setTimeout(fn, 1, ...args);
  };
  globalThis.setImmediate = Object.assign(wrapped, immediate) as typeof setImmediate;
}
