export default { name: 'n'.repeat(100000), create: () => ({ init: () => 0, onEntry() {}, onExit() {} }) };
