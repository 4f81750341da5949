export default { name: 'notfn', create: () => ({ init: () => 0, onEntry: 5, onExit() {} }) };
