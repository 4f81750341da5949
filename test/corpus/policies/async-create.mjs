export default { name: 'asynccreate', create: async () => ({ init: () => 0, onEntry() {}, onExit() {} }) };
