export default { name: 'evil\x1b]0;title\x07', create: () => ({ init: () => 0, onEntry() {}, onExit() {} }) };
