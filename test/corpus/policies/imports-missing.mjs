import x from './does-not-exist.mjs';
export default x;
