// Policy state holding a function: the checker cannot copy it.
export default { name: 'unclonable', create: () => ({ init: () => ({ f: () => 1 }), onEntry() {}, onExit() {} }) };
