// Throws a revoked proxy: every operation on it throws.
const { proxy, revoke } = Proxy.revocable({}, {}); revoke();
export default { name: 'throwsproxy', create: () => ({ init: () => 0, onEntry() { throw proxy; }, onExit() {} }) };
