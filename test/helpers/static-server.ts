import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import sirv from 'sirv';

/** A plain static file server on a free port of localhost. */
export interface StaticServer {
  /** The URL of `path` (relative to the served folder). */
  url(path?: string): string;
  close(): Promise<void>;
}

/**
 * Serves the files of `dir` as any static host would: each file as it is (sirv: content type by
 * extension), 404 for anything else; no fallback page, no transforms, no dev-server modules. What
 * works here works on GitHub Pages, S3 or `python3 -m http.server`.
 */
export async function serveStatic(dir: string): Promise<StaticServer> {
  const server = createServer(sirv(dir, { dev: true }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: (path = '') => new URL(path, base).href,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections(); // the browser's keep-alive connections would hold close() open
      }),
  };
}
