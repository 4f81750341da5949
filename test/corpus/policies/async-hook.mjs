// A hook that returns a rejected promise: hooks must be synchronous.
export default { name: 'async-hook', create: () => ({ init: () => 0, async onEntry() { throw new Error('late'); }, onExit() {} }) };
