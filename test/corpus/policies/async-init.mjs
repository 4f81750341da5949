export default { name: 'asyncinit', create: () => ({ async init() { return 0; }, onEntry() {}, onExit() {} }) };
