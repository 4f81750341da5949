// Throws a 5 MB string with control characters: the error line must stay short and clean.
export default { name: 'hugestring', create: () => ({ init: () => 0, onEntry() { throw '\x1b[31mred\x00' + 'x'.repeat(5_000_000); }, onExit() {} }) };
