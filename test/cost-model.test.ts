/** The structural cost model: NNLS, leave-one-out, and the built-in fits. */
import { describe, expect, it } from 'vitest';
import { calibrate } from '../bench/calibration.js';
import {
  type AnchorDef,
  type AnchorResult,
  type FitGroup,
  fitWithLeaveOneOut,
  type GroupFit,
  nnls,
} from '../src/cpu/cost-model.js';
import { BUILTIN_CPUS } from '../src/cpu/profiles.js';

describe('nnls', () => {
  it('recovers an exact non-negative solution', () => {
    const rows = [
      [1, 0, 0],
      [1, 1, 0],
      [1, 0, 1],
      [2, 1, 0],
    ];
    const x = [3, 5, 7];
    const y = rows.map((r) => r.reduce((s, v, i) => s + v * x[i], 0));
    nnls(rows, y, 3).forEach((v, i) => {
      expect(v).toBeCloseTo(x[i], 9);
    });
  });
  it('clamps a component the data would make negative to zero', () => {
    // y = 1 - 2 b: unconstrained least squares gives b < 0; NNLS keeps b = 0 and fits a alone.
    const rows = [
      [1, 0],
      [1, 1],
    ];
    const [a, b] = nnls(rows, [1, -1], 2);
    expect(b).toBe(0);
    expect(a).toBeCloseTo(0, 9);
  });
});

/** A synthetic group whose anchors are generated exactly from known components. */
function synthetic(plant = 0): FitGroup {
  const truth = { k: 1000, g: 400, u: 3000 };
  const fixedIpi = 600;
  const anchor = (id: string, terms: Record<string, number>, fixedCycles: number): AnchorDef => {
    const paper = Object.entries(terms).reduce(
      (s, [c, v]) => s + v * truth[c as keyof typeof truth],
      fixedCycles,
    );
    // The planted error: the model believes the IPI's fixed part is `plant` cycles off.
    const believed = id === 'ipi' ? fixedCycles + plant : fixedCycles;
    return {
      id,
      profile: 'p',
      label: id,
      paper,
      source: 'synthetic',
      confidence: 'high',
      design: 'lazy-vcpu',
      terms,
      fixed: [{ id: 'f', cycles: believed, basis: 'estimated', source: 'synthetic' }],
    };
  };
  return {
    id: 'synthetic',
    members: ['p'],
    components: { k: 'round trip', g: 'mmio', u: 'user' },
    anchors: [
      anchor('hvc', { k: 1 }, 100),
      anchor('mmio', { k: 1, g: 1 }, 100),
      anchor('user', { k: 1, u: 1 }, 100),
      anchor('ipi', { k: 1.75, g: 1 }, fixedIpi),
    ],
  };
}

function byId(fit: GroupFit, id: string): AnchorResult {
  const a = fit.anchors.find((r) => r.anchor.id === id);
  if (!a) throw new Error(`no anchor ${id}`);
  return a;
}

describe('leave-one-out', () => {
  it('predicts every identifiable anchor of an exact synthetic profile with no error', () => {
    const fit = fitWithLeaveOneOut(synthetic());
    for (const a of fit.anchors) {
      expect(Math.abs(a.fittedError)).toBeLessThan(1e-9);
      if ('predicted' in a.heldOut) expect(Math.abs(a.heldOut.error)).toBeLessThan(1e-9);
    }
    const user = byId(fit, 'user');
    expect('reason' in user.heldOut && user.heldOut.reason).toMatch(/u appears in no other anchor/);
  });
  it('catches a planted error in one component: the anchors sharing it miss when held out', () => {
    const fit = fitWithLeaveOneOut(synthetic(800));
    const ipi = byId(fit, 'ipi');
    const hvc = byId(fit, 'hvc');
    // Held out, the IPI is predicted from k and g fitted on hvc and mmio: off by the 800
    // planted cycles (of 2,750 = 1.75 x 1,000 + 400 + 600), whereas the in-sample fit spreads the error thinner.
    expect('predicted' in ipi.heldOut && ipi.heldOut.error).toBeCloseTo(800 / 2750, 6);
    expect(Math.abs(ipi.fittedError)).toBeLessThan(
      Math.abs((ipi.heldOut as { error: number }).error),
    );
    expect('predicted' in hvc.heldOut && Math.abs(hvc.heldOut.error)).toBeGreaterThan(0.05);
  });
});

describe('built-in profiles', () => {
  it('hold out at least one anchor in every profile with four or more anchors', () => {
    for (const cpu of BUILTIN_CPUS) {
      const mine = cpu.costModel.anchors.filter((a) => a.anchor.profile === cpu.name);
      if (mine.length < 4) continue;
      expect(
        mine.some((a) => 'predicted' in a.heldOut),
        cpu.name,
      ).toBe(true);
    }
  });
  it('the simulated design on each single-exit anchor equals the fitted model (hand counts hold)', async () => {
    const rows = await calibrate(BUILTIN_CPUS, 200);
    expect(rows.length).toBe(20);
    for (const r of rows) {
      if (r.simulatedCycles === null) continue;
      // exitBase is rounded to whole cycles.
      expect(Math.abs(r.simulatedCycles - r.modelCycles), r.anchor).toBeLessThanOrEqual(1);
    }
  });
});
