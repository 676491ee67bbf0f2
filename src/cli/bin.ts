// Entry point of the `webrnn` command (built to dist/cli.js).
import { main } from './main.ts';
import pkg from '../../package.json' with { type: 'json' };

const code = await main(process.argv.slice(2), {
  out: (l) => console.log(l),
  err: (l) => console.error(l),
}, pkg.version);
process.exitCode = code;
