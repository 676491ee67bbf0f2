import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { RecurrentNet } from '../../src/model/recurrent.ts';
import type { FloatArray } from '../../src/tensor.ts';
import type { Tolerance } from '../../src/util/compare.ts';
import type { PreparedRun } from '../contender.ts';
import { hardwareThreads, LazySetup, onlyIn, type PeerContender, type PeerSettings } from './peer.ts';

/**
 * PyTorch as a benchmark peer: a long-lived Python process (bench/peers/torch_peer.py) builds the
 * workload's nn.RNN / nn.LSTM / nn.GRU + nn.Linear from `model.stateDict()` and runs it in float32,
 * on the CPU (`torch.set_num_threads(logical cores)`) or on CUDA (cuDNN). The frames of the protocol
 * are described in torch_peer.py: a JSON header, then the tensors as raw float32. Three contenders,
 * one process each (a process chooses its device and TF32 setting once):
 *
 *   pytorch-cpu        the CPU
 *   pytorch-cuda-fp32  CUDA with torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32
 *                      off: cuDNN in fp32 against webrnn's fp32
 *   pytorch-cuda-tf32  CUDA with both on (cuDNN's default): fp32 storage, TF32 tensor-core math
 *
 * The interpreter is $WEBRNN_BENCH_PYTHON ({@link PYTHON_ENV}; a bare name is looked up on PATH), else
 * Debian's `/usr/bin/python3` (with `python3-torch`) where it exists, else the first `python3` on
 * PATH (on the GPU machine, a virtual environment's with CUDA PyTorch). The script is torch_peer.py
 * beside this module, or $WEBRNN_TORCH_PEER_SCRIPT ({@link TORCH_PEER_SCRIPT_ENV}) where this module
 * was bundled away from it.
 *
 * A run's time is the peer's own, reported through {@link PreparedRun.timedRun}, because a PyTorch
 * user pays no pipe to another process; the harness records that the cell used in-process timing.
 * On the CPU it is `time.perf_counter()` around the forward. On CUDA it is torch.cuda.Event pairs
 * around the input's upload, the forward and the output's readback, since webrnn's time includes its
 * upload and readback; the forward alone (its input already on the GPU) is the cell's GPU time
 * ({@link PreparedRun.gpuTime}), beside webrnn's kernels-only GPU time. Node only; where python3,
 * torch or CUDA is missing, `available()` says which ("torch.cuda.is_available() is False").
 *
 * The process runs with `OMP_WAIT_POLICY=PASSIVE` unless the environment sets it: with libgomp's
 * default (threads spin while they wait), 2 threads on 2 cores shared with other processes ran an
 * LSTM H=32 training step 10× slower than 1 thread here (1,070 against 100 ms, load average 5);
 * passive waiting kept 2 threads at least as fast as 1. Which policy ran is in `settings()`.
 */

/** The environment variable naming the Python interpreter (a path, or a name looked up on PATH). */
export const PYTHON_ENV = 'WEBRNN_BENCH_PYTHON';
/** The interpreter when {@link PYTHON_ENV} is unset, where it exists (Debian's python3 with python3-torch). */
export const DEFAULT_PYTHON = '/usr/bin/python3';
/** The environment variable naming torch_peer.py, for a bundle that ships it somewhere else. */
export const TORCH_PEER_SCRIPT_ENV = 'WEBRNN_TORCH_PEER_SCRIPT';

/** Where a PyTorch process computes, and whether cuDNN and cuBLAS may use TF32 there. */
export interface TorchDevice {
  device: 'cpu' | 'cuda';
  /** torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32, set on either device (no effect on the CPU). */
  tf32: boolean;
}

export const TORCH_CPU: TorchDevice = { device: 'cpu', tf32: false };
export const TORCH_CUDA_FP32: TorchDevice = { device: 'cuda', tf32: false };
export const TORCH_CUDA_TF32: TorchDevice = { device: 'cuda', tf32: true };

/** The contender's name, in the forward and the training benchmark alike: `pytorch-cpu`, `pytorch-cuda-fp32`, `pytorch-cuda-tf32`. */
export function torchContenderName(d: TorchDevice): string {
  return d.device === 'cpu' ? 'pytorch-cpu' : `pytorch-cuda-${d.tf32 ? 'tf32' : 'fp32'}`;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The first `name` in a directory of PATH (empty entries, the current directory, are skipped). */
function onPath(name: string, env: Env, exists: (path: string) => boolean): string | null {
  for (const dir of (env.PATH ?? '').split(':')) {
    if (dir && exists(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}

/**
 * The interpreter to start: {@link PYTHON_ENV} when set (a name without a slash looked up on PATH),
 * else {@link DEFAULT_PYTHON} where it exists, else the first `python3` on PATH; null when there is
 * none. An interpreter named in the environment is returned even where it does not exist, so that
 * the error names it.
 */
export function resolvePython(env: Env, exists: (path: string) => boolean): string | null {
  const named = env[PYTHON_ENV];
  if (named) return named.includes('/') ? named : (onPath(named, env, exists) ?? named);
  return exists(DEFAULT_PYTHON) ? DEFAULT_PYTHON : onPath('python3', env, exists);
}

/** torch_peer.py: {@link TORCH_PEER_SCRIPT_ENV} when set, else `beside` (the script next to this module). */
export function resolveTorchScript(env: Env, beside: string): string {
  return env[TORCH_PEER_SCRIPT_ENV] || beside;
}

/** A failed request to the PyTorch process, or the process itself failing (the message says which). */
export class TorchPeerError extends Error {
  override readonly name = 'TorchPeerError';
}

/** A tensor as it travels: row-major values (sent as float32) and a shape. */
export interface WireTensor {
  name: string;
  shape: readonly number[];
  data: FloatArray;
}

/** A reply: its JSON header and its tensors by name. */
export interface TorchReply {
  header: Record<string, unknown>;
  tensors: Map<string, Float32Array>;
}

const FRAME_BYTES = 12; // u32 header length, u64 payload length

/** One frame: the header (with the tensors' names and shapes) and the payload of their float32 values. */
export function encodeFrame(header: Record<string, unknown>, tensors: readonly WireTensor[]): Buffer[] {
  const described = tensors.map(({ name, shape, data }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new TorchPeerError(`tensor ${name} has ${data.length} values but shape [${shape.join(', ')}] needs ${n}`);
    return { name, shape: [...shape] };
  });
  const body = Buffer.from(JSON.stringify({ ...header, tensors: described }), 'utf8');
  const blobs = tensors.map(({ data }) => {
    const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
    return Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength);
  });
  const prefix = Buffer.alloc(FRAME_BYTES);
  prefix.writeUInt32LE(body.length, 0);
  prefix.writeBigUInt64LE(BigInt(blobs.reduce((a, b) => a + b.length, 0)), 4);
  return [prefix, body, ...blobs];
}

/**
 * Splits the bytes a process writes into frames. The chunks of a frame are joined once, when the
 * whole frame is in: a reply of a gigabyte comes in tens of thousands of pipe reads, and joining at
 * every read would copy terabytes (64 MiB already took 30 s that way).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  push(chunk: Buffer): TorchReply[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: TorchReply[] = [];
    for (;;) {
      if (this.buffered < FRAME_BYTES) return frames;
      if (this.chunks[0]!.length < FRAME_BYTES) this.chunks = [Buffer.concat(this.chunks)];
      const head = this.chunks[0]!;
      const h = head.readUInt32LE(0);
      const p = Number(head.readBigUInt64LE(4));
      const end = FRAME_BYTES + h + p;
      if (this.buffered < end) return frames;
      const all = this.chunks.length === 1 ? head : Buffer.concat(this.chunks);
      frames.push(decodeFrame(all.subarray(FRAME_BYTES, FRAME_BYTES + h), all.subarray(FRAME_BYTES + h, end)));
      const rest = all.subarray(end);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
    }
  }
}

function decodeFrame(body: Buffer, payload: Buffer): TorchReply {
  const header = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  const tensors = new Map<string, Float32Array>();
  let offset = 0;
  for (const { name, shape } of (header.tensors as { name: string; shape: number[] }[] | undefined) ?? []) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    // A copy: the payload's offset in the buffer need not be a multiple of 4.
    const copy = new Uint8Array(bytes);
    copy.set(payload.subarray(offset, offset + bytes));
    tensors.set(name, new Float32Array(copy.buffer));
    offset += bytes;
  }
  return { header, tensors };
}

/** Node's `ref()`/`unref()` on a child's pipes: idle pipes must not keep Node alive. */
type Referable = { ref(): void; unref(): void };

/**
 * The Python process and its request queue: requests are answered in order, one at a time. The
 * process holds Node's event loop only while a request is pending.
 */
export class TorchProcess {
  private readonly pending: Array<{ resolve: (r: TorchReply) => void; reject: (e: Error) => void }> = [];
  private readonly reader = new FrameReader();
  private stderr = '';
  private failure: TorchPeerError | null = null;
  private handles = 0;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly python: string,
  ) {
    child.stdout.on('data', (chunk: Buffer) => {
      for (const reply of this.reader.push(chunk)) this.pending.shift()?.resolve(reply);
      this.hold();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.on('error', (e) => this.fail(`${python}: ${e.message}`));
    child.on('exit', (code, signal) => this.fail(`the PyTorch process exited (${signal ?? `code ${code}`})${this.stderrTail()}`));
    child.stdin.on('error', () => {}); // a dead process is reported by 'exit'
    this.hold();
  }

  /**
   * Starts `python torch_peer.py` (see the module comment for which interpreter and script), sets its
   * threads, device and TF32 flags and resolves to the process with what it reported; throws
   * {@link TorchPeerError} saying what is missing.
   */
  static async start(threads: number, d: TorchDevice): Promise<{ process: TorchProcess; hello: Record<string, unknown> }> {
    // Variables, so that bundlers for the browser leave Node's modules alone.
    const [childProcess, fs, url] = ['node:child_process', 'node:fs', 'node:url'];
    const [{ spawn }, { existsSync }, { fileURLToPath }] = await Promise.all([
      import(/* @vite-ignore */ childProcess) as Promise<typeof import('node:child_process')>,
      import(/* @vite-ignore */ fs) as Promise<typeof import('node:fs')>,
      import(/* @vite-ignore */ url) as Promise<typeof import('node:url')>,
    ]);
    const python = resolvePython(process.env, existsSync);
    const install = `install Debian's python3 and python3-torch, or name an interpreter with torch in ${PYTHON_ENV}`;
    if (python === null) throw new TorchPeerError(`no Python: ${DEFAULT_PYTHON} not found and no python3 on PATH: ${install}`);
    if (!existsSync(python)) throw new TorchPeerError(`${python} not found: ${install}`);
    const scriptName = 'torch_peer.py'; // a variable, so bundlers do not copy the script as an asset
    const script = resolveTorchScript(process.env, fileURLToPath(new URL(scriptName, import.meta.url)));
    if (!existsSync(script))
      throw new TorchPeerError(`${script} not found: the PyTorch peer's script; name torch_peer.py in ${TORCH_PEER_SCRIPT_ENV}`);
    const env = { ...process.env, PYTHONUNBUFFERED: '1', OMP_WAIT_POLICY: ompWaitPolicy() };
    const child = spawn(python, ['-u', script], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const proc = new TorchProcess(child, python);
    try {
      const { header } = await proc.request('hello', { threads, device: d.device, tf32: d.tf32 });
      return { process: proc, hello: header };
    } catch (e) {
      proc.close();
      if (e instanceof TorchPeerError && /No module named|import/i.test(e.message)) {
        throw new TorchPeerError(
          `PyTorch is not importable by ${python} (${e.message}): apt-get install python3-torch, or set ${PYTHON_ENV}`,
        );
      }
      if (e instanceof TorchPeerError && /torch\.cuda\.is_available\(\) is False/.test(e.message)) {
        throw new TorchPeerError(`no CUDA for ${python}: ${e.message.replace(/^hello: /, '')}`);
      }
      throw e;
    }
  }

  /** Sends one request; resolves to the reply, or rejects with the peer's error. */
  request(op: string, fields: Record<string, unknown> = {}, tensors: readonly WireTensor[] = []): Promise<TorchReply> {
    if (this.failure) return Promise.reject(this.failure);
    const frame = encodeFrame({ op, ...fields }, tensors);
    return new Promise<TorchReply>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.hold();
      for (const part of frame) this.child.stdin.write(part);
    }).then((reply) => {
      if (reply.header.ok !== true) throw new TorchPeerError(`${op}: ${String(reply.header.error ?? 'failed')}`);
      return reply;
    });
  }

  /** False once the process exited, failed or was closed. */
  get alive(): boolean {
    return this.failure === null;
  }

  /** A fresh handle for a prepared model. */
  nextHandle(): number {
    return ++this.handles;
  }

  /** Ends the process (end of input; it exits by itself). */
  close(): void {
    if (!this.failure) this.failure = new TorchPeerError('the PyTorch process was closed');
    this.child.stdin.end();
    this.release();
  }

  private fail(message: string): void {
    this.failure ??= new TorchPeerError(message);
    for (const p of this.pending.splice(0)) p.reject(new TorchPeerError(message));
    this.release();
  }

  private stderrTail(): string {
    const tail = this.stderr.trim().split('\n').slice(-5).join('\n');
    return tail ? `: ${tail}` : '';
  }

  /** Keeps Node alive exactly while a reply is awaited. */
  private hold(): void {
    if (this.pending.length) {
      this.child.ref();
      for (const s of [this.child.stdout, this.child.stderr, this.child.stdin]) (s as unknown as Referable).ref();
    } else {
      this.release();
    }
  }

  private release(): void {
    this.child.unref();
    for (const s of [this.child.stdout, this.child.stderr, this.child.stdin]) (s as unknown as Partial<Referable>).unref?.();
  }
}

/** OpenMP's wait policy for the process: the environment's, else PASSIVE (see the module comment). */
function ompWaitPolicy(): string {
  return process.env.OMP_WAIT_POLICY || 'PASSIVE';
}

/** The module's options as torch_peer.py builds it (batch-first). */
export function torchModuleOf(model: RecurrentNet): Record<string, unknown> {
  const c = model.config;
  if (!c.batchFirst) throw new TorchPeerError('the PyTorch peer takes batch-first input only');
  const { cell, inputSize, hiddenSize, numLayers, bias, bidirectional, nonlinearity, outputSize, headBias, prefix, headPrefix } = c;
  return { cell, inputSize, hiddenSize, numLayers, bias, bidirectional, nonlinearity, outputSize, headBias, prefix, headPrefix };
}

/** A state dict (PyTorch names, e.g. `model.stateDict()`) as tensors to send, and their names in order. */
export function stateDictTensors(sd: Record<string, { data: FloatArray; shape: readonly number[] }>): {
  params: string[];
  tensors: WireTensor[];
} {
  const params = Object.keys(sd);
  return { params, tensors: params.map((name) => ({ name, shape: sd[name]!.shape, data: sd[name]!.data })) };
}

/** The process, what it runs with (for `settings()`) and its `hello` reply as it came. */
export interface TorchSetup {
  process: TorchProcess;
  settings: PeerSettings;
  hello: Record<string, unknown>;
}

/** Starts the process for a contender on `d` (Node only); throws the reason it cannot. */
export async function startTorch(d: TorchDevice = TORCH_CPU): Promise<TorchSetup> {
  const where = onlyIn('node', 'a Python subprocess');
  if (where !== true) throw new TorchPeerError(where);
  const { process: proc, hello } = await TorchProcess.start(await hardwareThreads(), d);
  return { process: proc, settings: torchSettings(proc.python, hello, d), hello };
}

/** What a process runs with, from its `hello`: versions, threads and BLAS; on CUDA the GPU, CUDA, cuDNN and both TF32 flags as torch reports them. */
function torchSettings(python: string, hello: Record<string, unknown>, d: TorchDevice): PeerSettings {
  const common: PeerSettings = {
    library: `PyTorch ${String(hello.torch)}`,
    device: d.device,
    threads: Number(hello.threads),
    dtype: 'float32',
    python: `${python} (${String(hello.python)})`,
    blas: String(hello.blas),
    ompWaitPolicy: ompWaitPolicy(),
  };
  if (d.device === 'cpu') return { ...common, timing: 'in-process: time.perf_counter() in Python, without the pipe to Node' };
  const precision: PeerSettings =
    typeof hello.cudnnRnnFp32Precision === 'string' ? { cudnnRnnFp32Precision: hello.cudnnRnnFp32Precision } : {};
  return {
    ...common,
    gpu: String(hello.gpu),
    computeCapability: String(hello.computeCapability),
    multiprocessors: Number(hello.multiprocessors),
    cuda: String(hello.cuda),
    cudnn: String(hello.cudnn),
    cudnnEnabled: hello.cudnnEnabled === true,
    tf32: d.tf32,
    cudnnAllowTf32: hello.cudnnAllowTf32 === true,
    matmulAllowTf32: hello.matmulAllowTf32 === true,
    ...precision,
    timing:
      "in-process, CUDA events: the input's upload, the forward and the output's readback (what webrnn's wall time covers), " +
      'without the pipe to Node; GPU ms: the forward alone, its input already on the GPU',
  };
}

/** The cuDNN algorithm a `forward.prepare` or `train.prepare` reply expects PyTorch to pick; null on the CPU. */
export function cudnnAlgoOf(header: Record<string, unknown>): string | null {
  return typeof header.cudnnAlgo === 'string' ? header.cudnnAlgo : null;
}

/** A forward.run reply's times: the cell's (CUDA: upload, forward and readback; CPU: the forward) and, on CUDA, the forward alone as its GPU time. */
export function forwardTimes(header: Record<string, unknown>): { ms: number; gpu: { ms: number; method: 'timestamp' } | null } {
  const forwardMs = Number(header.forwardMs);
  if (header.roundTripMs === null || header.roundTripMs === undefined) return { ms: forwardMs, gpu: null };
  // CUDA events are the GPU's own timestamps, as WebGPU's timestamp queries are webrnn's.
  return { ms: Number(header.roundTripMs), gpu: { ms: forwardMs, method: 'timestamp' } };
}

/**
 * What `pytorch-cuda-tf32`'s outputs are validated with: TF32 rounds matmul inputs to 10 mantissa
 * bits (a relative error of about 2⁻¹¹ ≈ 5e-4 per product), which the recurrence carries through T
 * steps; METHOD.md puts TF32 results near 3e-4 relative to a float64 reference. fp32 contenders keep
 * FLOAT32_TOLERANCE; the record names this tolerance where it applied.
 */
export const TF32_TOLERANCE: Tolerance = { atol: 2e-3, rtol: 1e-2 };

/** `pytorch-cpu` (no argument), `pytorch-cuda-fp32` or `pytorch-cuda-tf32`: the forward pass under torch.no_grad(), timed in the Python process. */
export function pytorchPeer(d: TorchDevice = TORCH_CPU): PeerContender {
  const lazy = new LazySetup(() => startTorch(d));
  // The cuDNN algorithm PyTorch is expected to pick for the workload prepared last (the harness reads settings after a cell).
  let cudnnAlgo: string | null = null;
  return {
    name: torchContenderName(d),
    ...(d.tf32 ? { tolerance: TF32_TOLERANCE } : {}),
    settings: () => ({ ...lazy.settings(), ...(cudnnAlgo ? { cudnnAlgo } : {}) }),
    available: () => lazy.available(),
    async prepare(w, model, x): Promise<PreparedRun> {
      const { process: proc } = await lazy.load();
      const handle = proc.nextHandle();
      const { params, tensors } = stateDictTensors(model.stateDict());
      const input: WireTensor = { name: 'x', shape: [w.batch, w.steps, w.inputSize], data: x };
      const ready = await proc.request('forward.prepare', { handle, module: torchModuleOf(model), params }, [...tensors, input]);
      cudnnAlgo = cudnnAlgoOf(ready.header);
      let gpu: ReturnType<typeof forwardTimes>['gpu'] = null;
      const timedRun = async () => {
        const reply = await proc.request('forward.run', { handle });
        const output = reply.tensors.get('output');
        if (!output) throw new TorchPeerError('forward.run replied without an output');
        const times = forwardTimes(reply.header);
        gpu = times.gpu;
        return { output, ms: times.ms };
      };
      return {
        run: async () => (await timedRun()).output,
        timedRun,
        gpuTime: () => gpu,
        dispose: async () => {
          if (proc.alive) await proc.request('release', { handle });
        },
      };
    },
    async dispose() {
      (await lazy.reset())?.process.close();
    },
  };
}

/** `pytorch-cpu`: {@link pytorchPeer} on the CPU. */
export function pytorchCpu(): PeerContender {
  return pytorchPeer(TORCH_CPU);
}

/** `pytorch-cuda-fp32` (TF32 off) or `pytorch-cuda-tf32` (TF32 on): {@link pytorchPeer} on CUDA. */
export function pytorchCuda(tf32: boolean): PeerContender {
  return pytorchPeer(tf32 ? TORCH_CUDA_TF32 : TORCH_CUDA_FP32);
}
