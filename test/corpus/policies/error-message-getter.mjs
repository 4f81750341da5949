// An Error whose message getter throws.
const e = new Error('x'); Object.defineProperty(e, 'message', { get() { throw new Error('inner'); } });
export default { name: 'msggetter', create: () => ({ init: () => 0, onEntry() { throw e; }, onExit() {} }) };
