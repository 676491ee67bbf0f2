import { MemoryTuneStore, type TuneEntry, type TuneStore } from './tuner.ts';

/**
 * Where tuned choices persist: IndexedDB in a browser (this module), a JSON file under the user's
 * cache folder in Node (./file-store.ts, registered by the package's `node` entry so browser builds
 * never import `node:fs`), memory elsewhere.
 */

let nodeStore: (() => TuneStore) | null = null;

/** Called by the `node` entry: the store {@link defaultTuneStore} returns in Node. */
export function useNodeTuneStore(factory: () => TuneStore): void {
  nodeStore = factory;
}

/** IndexedDB (a browser or worker), else the Node file store once registered, else memory. */
export function defaultTuneStore(): TuneStore {
  if (typeof indexedDB !== 'undefined') return new IndexedDbTuneStore();
  if (nodeStore) return nodeStore();
  return new MemoryTuneStore();
}

const DB = 'webrnn-tune';
const OBJECTS = 'choices';

/** Tuned choices in the browser's IndexedDB (database `webrnn-tune`, one object store keyed by the tune key). */
export class IndexedDbTuneStore implements TuneStore {
  private db: Promise<IDBDatabase> | null = null;

  constructor(private readonly name = DB) {}

  private open(): Promise<IDBDatabase> {
    return (this.db ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(this.name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(OBJECTS);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    }));
  }

  private async request<R>(mode: IDBTransactionMode, make: (s: IDBObjectStore) => IDBRequest<R>): Promise<R> {
    const db = await this.open();
    return new Promise((resolve, reject) => {
      const r = make(db.transaction(OBJECTS, mode).objectStore(OBJECTS));
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  }

  async get(key: string): Promise<TuneEntry | undefined> {
    return (await this.request('readonly', (s) => s.get(key))) as TuneEntry | undefined;
  }

  async set(key: string, entry: TuneEntry): Promise<void> {
    await this.request('readwrite', (s) => s.put(entry, key));
  }

  /** Closes the database (tests delete it afterwards). */
  async close(): Promise<void> {
    if (this.db) (await this.db).close();
    this.db = null;
  }
}
