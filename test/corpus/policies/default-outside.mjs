export default { name: 'outside', params: { k: { default: 50, min: 0, max: 10, description: 'k' } }, create: () => ({ init: () => 0, onEntry() {}, onExit() {} }) };
