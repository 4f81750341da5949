// Policy state holding a BigInt: cannot be hashed as JSON.
export default { name: 'bigintstate', create: () => ({ init: () => ({ n: 1n }), onEntry() {}, onExit() {} }) };
