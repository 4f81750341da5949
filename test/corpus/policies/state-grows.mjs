// Eager switching with a counter that never saturates: the policy state grows without
// bound, so `check` has no fixpoint to reach and must stop with exit 1 and say so.
export default {
  name: 'grows',
  create: () => ({
    init: () => ({ n: 0 }),
    onEntry(hw, s, vcpu) {
      s.n++;
      hw.writeCptrTfp(false);
      hw.saveFp('hostCtxt');
      hw.restoreFp(vcpu);
      if (hw.isAArch32(vcpu)) hw.restoreFpexc32(vcpu);
    },
    onExit(hw, _s, vcpu) {
      hw.saveFp(vcpu);
      if (hw.isAArch32(vcpu)) hw.saveFpexc32(vcpu);
      hw.writeCptrTfp(false);
      hw.restoreFp('hostCtxt');
    },
  }),
};
