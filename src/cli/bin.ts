// Entry point of the `webrnn` command (built to dist/cli/bin.js).
import { main, reportError, type CliIO } from './main.ts';
import { installNodeGpu } from '../gpu/node-adapter.ts';
import pkg from '../../package.json' with { type: 'json' };

// The command runs in Node: devices come from Dawn's `webgpu` package.
installNodeGpu();

// stderr as a stream too: on a terminal the training progress is one line redrawn in place.
const io: CliIO = { out: (l) => console.log(l), err: (l) => console.error(l), stderr: process.stderr, now: () => performance.now() };

// main() reports its own errors; these catch what escapes it (a callback of the GPU runtime, a
// rejection nobody awaited) so that the user still sees one line and no Node stack trace.
const fatal = (err: unknown) => process.exit(reportError(err, undefined, io));
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

process.exitCode = await main(process.argv.slice(2), io, pkg.version);
