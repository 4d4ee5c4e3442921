// Loads a .heapsnapshot with Chrome DevTools' own loader (the
// chrome-devtools-frontend package's heap_snapshot_worker) under node and
// prints {"nodeCount", "totalSize"} as DevTools computes them. Bundled by
// build.mjs into the cache directory; run_ticket.py copies it there.
import {MessageChannel} from 'node:worker_threads';
import fs from 'node:fs';
import {HeapSnapshotLoader} from './node_modules/chrome-devtools-frontend/front_end/entrypoints/heap_snapshot_worker/HeapSnapshotLoader.ts';
import * as HS from './node_modules/chrome-devtools-frontend/front_end/entrypoints/heap_snapshot_worker/HeapSnapshot.ts';

const loader = new HeapSnapshotLoader(undefined);
const fd = fs.openSync(process.argv[2], 'r');
const buf = Buffer.alloc(1 << 20);
const dec = new TextDecoder();
for (;;) {
  const n = fs.readSync(fd, buf, 0, buf.length, null);
  if (!n) break;
  loader.write(dec.decode(buf.subarray(0, n), {stream: true}));
}
loader.close();
// DevTools computes dominators in a second worker; here the same thread
// over a MessageChannel.
const {port1, port2} = new MessageChannel();
new HS.SecondaryInitManager(port2);
const snap = await loader.buildSnapshot(port1);
console.log(JSON.stringify({nodeCount: snap.nodeCount, totalSize: snap.totalSize}));
port1.close();
port2.close();
