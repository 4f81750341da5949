// Eager switching (the fixture eager-copy.js) plus a counter that never saturates: the
// policy state grows without bound, so `check` has no fixpoint to reach and must stop
// with exit 1 and say so.
import eager from '../../fixtures/user-policies/eager-copy.js';

const hooks = eager.create();
export default {
  name: 'grows',
  create: () => ({
    init: () => ({ n: 0 }),
    onEntry(hw, s, vcpu) {
      s.n++;
      hooks.onEntry(hw, null, vcpu);
    },
    onExit: (hw, _s, vcpu) => hooks.onExit(hw, null, vcpu),
  }),
};
