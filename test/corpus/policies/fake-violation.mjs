// A user error named Violation must not pass for the engine's own.
class Violation extends Error { name = 'Violation'; invariant = 'isolation'; diagnosis = 'fake'; }
export default { name: 'fakeviolation', create: () => ({ init: () => 0, onEntry() { throw new Violation('not from the engine'); }, onExit() {} }) };
