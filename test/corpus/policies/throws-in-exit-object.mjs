export default { name: 'exitobj', create: () => ({ init: () => 0, onEntry() {}, onExit() { throw { code: 1, toString() { throw new Error('no'); } }; } }) };
