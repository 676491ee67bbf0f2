// Module resolution hook registered by scripts/typedoc-typescript5.mjs (see there for the why):
// `typescript` imported from TypeDoc's files resolves to the `typescript5` alias package.

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'typescript' && context.parentURL?.includes('/node_modules/typedoc/')) {
    return nextResolve('typescript5', context);
  }
  return nextResolve(specifier, context);
}
