// A hook behind a getter that throws when the engine reads it.
export default { name: 'getter', create: () => ({ init: () => 0, get onEntry() { throw new Error('getter boom'); }, onExit() {} }) };
