// An endless loop in a hook: the watchdog stops it with one line.
export default { name: 'loops', create: () => ({ init: () => 0, onEntry() { for (;;) {} }, onExit() {} }) };
