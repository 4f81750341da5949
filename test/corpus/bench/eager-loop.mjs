// Stands in for the built-in eager, and loops forever in onExit.
export default { name: 'eager', create: () => ({ init: () => 0, onEntry() {}, onExit() { for (;;) {} } }) };
