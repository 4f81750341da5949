// Worker bootstrap. When the pool found the compiled JavaScript up to date (dist/, built
// by `npm run build`; `npm run bench` builds first) it passes its URL and the worker
// starts from it directly. Otherwise: register tsx so the TypeScript task code can be
// imported (tsx issue #354: a .ts file cannot be a worker entry on Node 20).
import { workerData } from 'node:worker_threads';

if (workerData && typeof workerData.compiled === 'string') {
  await import(workerData.compiled);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./worker-main.ts');
}
