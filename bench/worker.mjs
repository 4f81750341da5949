// Worker bootstrap: register tsx so the TypeScript task code can be imported (tsx issue
// #354: a .ts file cannot be a worker entry on Node 20), then hand over to it.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
