/**
 * Every buffer usage the engine asks for, in one table. The values are GPUBufferUsage's and
 * GPUMapMode's, spelled out: modules that build programs load before WebGPU's globals exist (Node
 * installs Dawn's at run time), and a buffer's role says what it needs, not a list of flags.
 */

/** The flags themselves (GPUBufferUsage's values), for code that combines its own. */
export const USAGE_FLAGS = { MAP_READ: 0x01, COPY_SRC: 0x04, COPY_DST: 0x08, UNIFORM: 0x40, STORAGE: 0x80, QUERY_RESOLVE: 0x200 } as const;

const { MAP_READ, COPY_SRC, COPY_DST, UNIFORM, STORAGE, QUERY_RESOLVE } = USAGE_FLAGS;

/** The usage of each role a buffer plays in the engine. */
export const BUFFER_USAGE = {
  /** A program's storage buffers and the training engine's parameters: uploaded, bound, copied, read back. */
  storage: STORAGE | COPY_DST | COPY_SRC,
  /** A dispatch's uniform struct. */
  uniform: UNIFORM | COPY_DST,
  /** Where results are copied to be mapped and read on the host. */
  readback: MAP_READ | COPY_DST,
  /** Where a timer resolves its timestamp queries. */
  queryResolve: QUERY_RESOLVE | COPY_SRC,
} as const;

/** GPUMapMode.READ. */
export const MAP_MODE_READ = 0x01;
