export default { name: 'throwsundef', create: () => ({ init: () => 0, onEntry() { throw undefined; }, onExit() {} }) };
