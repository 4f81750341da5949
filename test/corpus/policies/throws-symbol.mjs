export default { name: 'throwssym', create: () => ({ init: () => 0, onEntry() { throw Symbol('s'); }, onExit() {} }) };
