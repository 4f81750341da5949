/**
 * Explicit-state breadth-first search over every interleaving of the event alphabet on
 * the semantic machine, with state hashing, to a fixpoint or to a depth bound.
 *
 * Breadth first, so the first violation found has the fewest events. Deterministic: states
 * are expanded in the order they were found, events in alphabet order (`eventAlphabet`),
 * outcomes of a choice point in lexicographic order (`forEachOutcome`), so the same
 * counterexample comes out on every run. Of several shortest counterexamples the first in
 * that order wins; for example, for `lazy-v4` the exit that reads FPEXC32_EL2 with TFP set
 * ("load vcpu0, enter, exit kernel") is found before the FP access that exercises the
 * missing ISB ("load vcpu0, enter, guest fp el0"), because exits precede guest events in
 * the alphabet and both are three events long.
 *
 * Each state keeps a parent pointer and the event and choices that reached it; the
 * counterexample is rebuilt from those and replayed for its step-by-step states.
 */

import {
  describeInitialState,
  type Invariant,
  SemanticMachine,
  type SemState,
  Violation,
} from '../machine/semantic-machine.js';
import type { Policy } from '../policy/types.js';
import { FindingError, thrownText, UserError, userText } from '../util/errors.js';
import { num } from '../util/format.js';
import { notPlainData } from '../util/plain-data.js';
import type { CheckConfig } from './config.js';
import { diagnose } from './diagnose.js';
import { applyEvent, type CheckEvent, enabled, eventAlphabet } from './events.js';
import { forEachOutcome, type VectorChooser } from './outcomes.js';
import { checkedPolicy } from './abstraction.js';
import { StateKeyer } from './state-key.js';
import { cpacrDominator } from './subsume.js';
import { SymmetricKeyer, vcpuRenamings } from './symmetry.js';
import { bootStep, type Step, type StepState, tracePath } from './trace.js';

export interface CheckOptions {
  /** Check every event sequence up to this many events; omitted: search to the fixpoint. */
  readonly depth?: number;
  /** Give up after this many states (a safety bound for large configurations). */
  readonly maxStates?: number;
  /** Skip states subsumed by one already found (`subsume.ts`); default true. */
  readonly subsume?: boolean;
  /**
   * Identify states that differ only by renaming interchangeable vCPUs (`symmetry.ts`),
   * for policies that declare `vcpuSymmetric`; default true.
   */
  readonly symmetry?: boolean;
  /**
   * Check a policy that declares a mode abstraction through it (`abstraction.ts`), so the
   * verdict covers every parameter value; default true. False checks the given values.
   */
  readonly abstract?: boolean;
}

/** Depth bounds the CLI accepts. */
export const MIN_DEPTH = 1;
export const MAX_DEPTH = 10_000;
/**
 * Default state limit: far above the built-in configurations (at most tens of thousands
 * of states), and about 250 MB of heap at ~500 bytes a state.
 */
export const DEFAULT_MAX_STATES = 500_000;

/**
 * Distinct policy states after which a search is stopped as unbounded: the built-ins
 * stay in the tens (their counters saturate), a counter that never saturates passes
 * this in well under a second.
 */
const MAX_POLICY_STATES = 20_000;

/** The outcome of checking one policy in one configuration. */
export interface Verdict {
  readonly policy: string;
  readonly config: string;
  readonly verdict: 'ok' | 'violation';
  readonly invariant: Invariant | null;
  /** One sentence: what broke and why. */
  readonly diagnosis: string | null;
  /** The shortest counterexample, step by step (empty when ok). */
  readonly steps: readonly Step[];
  /** The state after boot. */
  readonly initial: StepState;
  /** The initial state in words. */
  readonly initialState: string;
  /** True when the search reached its fixpoint: the verdict covers histories of any length. */
  readonly exhaustive: boolean;
  /**
   * A violation: the counterexample's length. Ok at the fixpoint: the longest shortest
   * path to any state. Ok but bounded: every history up to this many events was checked.
   */
  readonly depth: number;
  /** What stopped a bounded search short of the fixpoint. */
  readonly bound: 'depth' | 'max-states' | null;
  readonly states: number;
  /** New states not explored because a state already found subsumes them (`subsume.ts`). */
  readonly subsumed: number;
  readonly transitions: number;
  readonly seconds: number;
  /** Which parameter values the verdict covers, e.g. "every threshold and eagerRuns ...". */
  readonly covers: string;
  /** States were identified up to this many renamings of interchangeable vCPUs (1: none). */
  readonly symmetry: number;
}

/** The raw result of a search: every state found and how it was reached. */
export interface Exploration {
  readonly states: readonly SemState[];
  readonly depthOf: readonly number[];
  readonly subsumed: number;
  readonly transitions: number;
  readonly exhaustive: boolean;
  readonly bound: 'depth' | 'max-states' | null;
  /** Every history up to this many events was checked. */
  readonly checkedDepth: number;
  /** The size of the vCPU renaming group the states were reduced by (1: none). */
  readonly symmetry: number;
  /** The first violating transition, and the path of events (with choices) that leads to it. */
  readonly counterexample?: {
    readonly path: readonly { event: CheckEvent; choices: readonly number[] }[];
  };
}

const NO_CHOICES: readonly number[] = [];

/** Breadth-first search from the state after boot. */
export function explore(policy: Policy, config: CheckConfig, opts: CheckOptions = {}): Exploration {
  return new Search(policy, config, opts).run();
}

type PathStep = { event: CheckEvent; choices: readonly number[] };

/**
 * The search's working state. A class rather than closures because the inner loop runs
 * once per transition (hundreds of thousands for `adaptive`): the callbacks handed to
 * `forEachOutcome` are made once, and the state being expanded sits in fields.
 */
class Search {
  private readonly vcpus: CheckConfig['vcpus'];
  private readonly alphabet: readonly CheckEvent[];
  private readonly m: SemanticMachine;
  private readonly maxDepth: number | undefined;
  private readonly maxStates: number;
  private readonly subsume: boolean;

  private readonly states: SemState[] = [];
  private readonly parent: number[] = [];
  private readonly via: number[] = [];
  private readonly viaChoices: (readonly number[])[] = [];
  private readonly depthOf: number[] = [];
  /** The interned id of each state's policy state (see StateKeyer). */
  private readonly pidOf: number[] = [];
  private readonly keyer = new StateKeyer();
  /** Canonical keys under vCPU renaming, when the policy allows it; else undefined. */
  private readonly symmetric: SymmetricKeyer | undefined;
  private readonly groupSize: number;
  private readonly seen = new Map<string, number>();

  private subsumed = 0;
  private transitions = 0;
  private exhaustive = true;
  private bound: Exploration['bound'] = null;
  private checkedDepth = Infinity;
  private found: { from: number; event: number; choices: readonly number[] } | undefined;

  /** The transition being explored: from state `head` by event `e`; `probe` past the depth bound. */
  private head = 0;
  private e = 0;
  private probe = false;

  private readonly runOutcome = (chooser: VectorChooser): Violation | undefined => {
    const m = this.m;
    m.restore(this.states[this.head]);
    m.chooser = chooser;
    try {
      applyEvent(m, this.alphabet[this.e]);
      return undefined;
    } catch (x) {
      if (x instanceof Violation) return x;
      throw policyCrash(this.policy, m, x);
    }
  };

  private readonly visitOutcome = (
    violation: Violation | undefined,
    chooser: VectorChooser,
  ): boolean => this.visit(violation, chooser);

  constructor(
    private readonly policy: Policy,
    config: CheckConfig,
    opts: CheckOptions,
  ) {
    this.vcpus = config.vcpus;
    this.alphabet = eventAlphabet(config.vcpus);
    this.m = new SemanticMachine(policy, config.vcpus);
    this.maxDepth = opts.depth;
    this.maxStates = opts.maxStates ?? DEFAULT_MAX_STATES;
    this.subsume = opts.subsume ?? true;
    const s0 = this.m.snapshot();
    const renamings =
      (opts.symmetry ?? true) && symmetricState(policy, s0.policy, config.vcpus.length)
        ? vcpuRenamings(config.vcpus)
        : [];
    this.symmetric = renamings.length ? new SymmetricKeyer(this.keyer, renamings) : undefined;
    this.groupSize = renamings.length + 1;
    const pid0 = this.policyIdOf(s0.policy);
    this.add(s0, this.keyOf(s0, pid0), pid0, -1, -1, NO_CHOICES, 0);
  }

  run(): Exploration {
    const { states, depthOf, alphabet } = this;
    search: for (let head = 0; head < states.length; head++) {
      this.head = head;
      // States at the depth bound are only probed: does anything new lie beyond them?
      this.probe = this.maxDepth !== undefined && depthOf[head] >= this.maxDepth;
      const from = states[head];
      for (let e = 0; e < alphabet.length; e++) {
        if (!enabled(alphabet[e], from, this.vcpus)) continue;
        this.e = e;
        if (forEachOutcome(this.runOutcome, this.visitOutcome)) break search;
      }
    }
    const base = {
      states,
      depthOf,
      subsumed: this.subsumed,
      transitions: this.transitions,
      symmetry: this.groupSize,
    };
    if (this.found) {
      const path: PathStep[] = [{ event: alphabet[this.found.event], choices: this.found.choices }];
      for (let i = this.found.from; i > 0; i = this.parent[i]) {
        path.push({ event: alphabet[this.via[i]], choices: this.viaChoices[i] });
      }
      path.reverse();
      return {
        ...base,
        exhaustive: false,
        bound: null,
        checkedDepth: path.length,
        counterexample: { path },
      };
    }
    const checkedDepth =
      this.bound === 'depth' ? (this.maxDepth ?? this.checkedDepth) : this.checkedDepth;
    return { ...base, exhaustive: this.exhaustive, bound: this.bound, checkedDepth };
  }

  /** One outcome of the current transition; returns true to stop the search. */
  private visit(violation: Violation | undefined, chooser: VectorChooser): boolean {
    const s = this.m.s;
    if (this.probe) {
      // Past the bound nothing is reported: only whether the fixpoint was reached.
      if (
        violation ||
        this.isNew(s, this.policyIdOf(s.policy, this.pidOf[this.head])) !== undefined
      ) {
        this.exhaustive = false;
        this.bound = 'depth';
        return true;
      }
      return false;
    }
    this.transitions++;
    if (violation) {
      this.found = { from: this.head, event: this.e, choices: chooser.taken.slice() };
      return true;
    }
    const pid = this.policyIdOf(s.policy, this.pidOf[this.head]);
    const key = this.isNew(s, pid);
    if (key === undefined) return false;
    if (this.states.length >= this.maxStates) {
      this.exhaustive = false;
      this.bound = 'max-states';
      this.checkedDepth = this.depthOf[this.head];
      return true;
    }
    // The machine's state object is fresh from restore() and not shared: keep it, with
    // its policy state swapped for the interned copy (restore() copies it before use),
    // so equal policy states are stored once.
    s.policy = this.keyer.value(pid);
    this.add(s, key, pid, this.head, this.e, chooser.taken.slice(), this.depthOf[this.head] + 1);
    return false;
  }

  /** The key of `s` if it is new: neither found already nor subsumed by a state found. */
  private isNew(s: SemState, pid: number): string | undefined {
    const key = this.keyOf(s, pid);
    if (this.seen.has(key)) return undefined;
    if (this.subsume) {
      const dom = cpacrDominator(s);
      if (dom !== undefined && this.seen.has(this.keyOf(dom, pid))) {
        if (!this.probe) this.subsumed++;
        return undefined;
      }
    }
    return key;
  }

  /**
   * The interned id of a policy state. A user's state that cannot be hashed or copied
   * (a function, a BigInt, a cycle, a throwing getter) is a UserError; a state space
   * whose policy states keep growing (a counter that never saturates) stops the search
   * with a finding instead of running to the state limit.
   */
  private policyIdOf(x: unknown, hint = -1): number {
    let id: number;
    try {
      id = this.keyer.policyId(x, hint);
    } catch (e) {
      if (this.policy.source === undefined) throw e;
      let bad: string | undefined;
      try {
        bad = notPlainData(x);
      } catch {
        bad = undefined;
      }
      throw new UserError(
        `${this.policy.source}: policy ${userText(this.policy.id)}: its state must be plain data (numbers, booleans, strings, arrays, objects): ${bad ?? thrownText(e)}`,
      );
    }
    if (this.keyer.policyStates > MAX_POLICY_STATES) {
      throw new FindingError(
        `policy ${this.policy.id}: its state grows without bound (over ${num(MAX_POLICY_STATES)} distinct policy states after ${num(this.states.length)} machine states): no fixpoint exists; bound every counter in the policy state`,
      );
    }
    return id;
  }

  /** The state's key: canonical over vCPU renamings when symmetry applies. */
  private keyOf(s: SemState, pid: number): string {
    return this.symmetric ? this.symmetric.key(s, pid) : this.keyer.key(s, pid);
  }

  private add(
    s: SemState,
    key: string,
    pid: number,
    parent: number,
    via: number,
    choices: readonly number[],
    depth: number,
  ): void {
    if (this.policy.source !== undefined) {
      // States are hashed and copied as JSON: a user policy's state must survive that.
      const bad = notPlainData(s.policy);
      if (bad)
        throw new UserError(
          `${this.policy.source}: policy ${userText(this.policy.id)}: its state must be plain data (numbers, booleans, strings, arrays, objects): ${bad}`,
        );
    }
    this.seen.set(key, this.states.length);
    this.states.push(s);
    this.pidOf.push(pid);
    this.parent.push(parent);
    this.via.push(via);
    this.viaChoices.push(choices.length ? choices : NO_CHOICES);
    this.depthOf.push(depth);
  }
}

/**
 * Symmetry applies to a policy that declares `vcpuSymmetric` and whose state is null or
 * one entry per vCPU (what renaming permutes).
 */
function symmetricState(policy: Policy, state: unknown, vcpus: number): boolean {
  if (policy.definition.vcpuSymmetric !== true) return false;
  return state === null || (Array.isArray(state) && state.length === vcpus);
}

/**
 * Checks a policy in a configuration: the search (through the policy's mode abstraction
 * when it declares one, see `abstraction.ts`), then the counterexample (if any) replayed
 * step by step with its diagnosis. The entry point for the CLI and the bench.
 */
export function checkPolicy(given: Policy, config: CheckConfig, opts: CheckOptions = {}): Verdict {
  const t0 = performance.now();
  const { policy, covers } = checkedPolicy(given, opts.abstract ?? true);
  const x = explore(policy, config, opts);
  const m = new SemanticMachine(policy, config.vcpus);
  const boot = bootStep(m);
  const common = {
    policy: policy.id,
    config: config.name,
    initial: boot.state,
    initialState: describeInitialState(config.vcpus),
    states: x.states.length,
    subsumed: x.subsumed,
    transitions: x.transitions,
    covers,
    symmetry: x.symmetry,
  };
  if (x.counterexample) {
    const { steps, violation } = tracePath(m, m.snapshot(), x.counterexample.path);
    if (!violation) {
      // The search and the replay ran the same events: only a policy whose hooks depend on
      // something outside its state (closures, globals, randomness) can diverge.
      if (policy.source !== undefined) {
        throw new UserError(
          `${policy.source}: policy ${userText(policy.id)}: the same history gave different outcomes: keep every piece of state in the policy state (not in closures or globals) and make the hooks deterministic`,
        );
      }
      throw new Error(`${policy.id}: the counterexample did not reproduce on replay`);
    }
    return {
      ...common,
      verdict: 'violation',
      invariant: violation.invariant,
      diagnosis: diagnose(violation, boot, steps),
      steps,
      exhaustive: false,
      depth: steps.length,
      bound: null,
      seconds: (performance.now() - t0) / 1000,
    };
  }
  return {
    ...common,
    verdict: 'ok',
    invariant: null,
    diagnosis: null,
    steps: [],
    exhaustive: x.exhaustive,
    depth: x.exhaustive ? x.depthOf[x.depthOf.length - 1] : x.checkedDepth,
    bound: x.bound,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * An exception from a policy's own code (not a broken invariant): a user's policy is a
 * user's mistake, reported in one line; a built-in's is a bug of ours.
 */
export function policyCrash(policy: Policy, m: SemanticMachine, e: unknown): unknown {
  if (policy.source === undefined || e instanceof UserError) return e;
  const msg = thrownText(e);
  return new UserError(
    `${policy.source}: policy ${userText(policy.id)} threw in ${m.hook ?? 'its hooks'}: ${userText(msg)}`,
  );
}
