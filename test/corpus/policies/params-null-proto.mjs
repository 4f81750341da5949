const params = Object.create(null); params.k = { default: null, description: 'k' };
export default { name: 'np', params, create: () => ({ init: () => 0, onEntry() {}, onExit() {} }) };
