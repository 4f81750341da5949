// A parameter whose default is the string 'abc'.
export default { name: 'badDefault', params: { k: { default: 'abc', description: 'k' } }, create: () => ({ init: () => 0, onEntry() {}, onExit() {} }) };
