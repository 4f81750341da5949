// Throws an object with a null prototype (String() of it throws).
export default { name: 'nullproto', create: () => ({ init: () => 0, onEntry() { throw Object.create(null); }, onExit() {} }) };
