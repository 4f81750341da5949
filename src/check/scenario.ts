/**
 * Scenario files: a named history of events (JSON) replayed on a policy, step by step,
 * ending in the first violation or "ok". For a user who wants to see one specific
 * history, and for regression tests.
 *
 * A file is either a JSON array of event names, or an object:
 * `{ "name": "...", "description": "...", "config": "default", "policy": "lazy-notafix",
 *    "events": ["load vcpu0", "enter", ...] }` (`config` and `policy` optional; the
 * command line overrides them; a relative config path is taken from the file's folder).
 *
 * Where the architecture leaves a step's outcome open (an EL2 access while a CPTR_EL2
 * write is pending), every outcome is tried: the step breaks an invariant if any outcome
 * does, and the replay continues from the first outcome otherwise.
 */

import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import {
  describeInitialState,
  SemanticMachine,
  type Violation,
} from '../machine/semantic-machine.js';
import type { Policy } from '../policy/types.js';
import { schemaError } from '../stream/schema-errors.js';
import { UserError, userText } from '../util/errors.js';
import { readJsonFile } from '../util/json-file.js';
import type { CheckConfig } from './config.js';
import { diagnose } from './diagnose.js';
import { type CheckEvent, EVENT_SYNTAX, parseEvent, whyDisabled } from './events.js';
import { policyCrash, type Verdict } from './explore.js';
import { forEachOutcome } from './outcomes.js';
import { stateKey } from './state-key.js';
import { bootStep, runStep, type Step } from './trace.js';

interface Scenario {
  readonly name: string;
  readonly description?: string;
  /** Configuration named by the file (a built-in name, or a path resolved against the file's folder). */
  readonly config?: string;
  readonly policy?: string;
  readonly events: readonly { readonly text: string; readonly event: CheckEvent }[];
  readonly file: string;
}

const ScenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  config: z.string().min(1).optional(),
  policy: z.string().min(1).optional(),
  events: z.array(z.string()).min(1),
});

/** Reads and validates a scenario file: one clear line naming the file and field on any mistake. */
export function loadScenario(file: string): Scenario {
  const raw = readJsonFile(file, 'scenario file');
  let body: z.infer<typeof ScenarioSchema>;
  if (Array.isArray(raw)) {
    const events = z.array(z.string()).min(1).safeParse(raw);
    if (!events.success) throw schemaError(file, events.error);
    body = { name: file, events: events.data };
  } else if (raw !== null && typeof raw === 'object') {
    const r = ScenarioSchema.safeParse(raw);
    if (!r.success) throw schemaError(file, r.error);
    body = r.data;
  } else {
    throw new UserError(
      `${userText(file)}: a scenario must be a JSON array of event names or an object with "name" and "events"`,
    );
  }
  const events = body.events.map((text, i) => {
    const event = parseEvent(text);
    if (!event)
      throw new UserError(
        `${userText(file)}: events[${i}]: unknown event ${userText(JSON.stringify(text))} (events: ${EVENT_SYNTAX})`,
      );
    return { text, event };
  });
  const config =
    body.config === undefined || !/[/\\]|\.json$/i.test(body.config)
      ? body.config
      : resolve(dirname(file), body.config);
  return {
    name: body.name,
    description: body.description,
    config,
    policy: body.policy,
    events,
    file,
  };
}

/** The outcome of replaying a scenario on one policy: a verdict's fields for one history. */
export interface Replay extends Pick<
  Verdict,
  'policy' | 'config' | 'verdict' | 'invariant' | 'diagnosis' | 'steps' | 'initial' | 'initialState'
> {
  readonly scenario: string;
}

/** Goes on from an event's first outcome; its step says how many others lead elsewhere. */
function followFirst(
  m: SemanticMachine,
  first: { step: Step; state: ReturnType<SemanticMachine['snapshot']> },
  others: Set<string>,
): Step {
  m.restore(first.state);
  others.delete(stateKey(first.state));
  if (others.size === 0) return first.step;
  return {
    ...first.step,
    choices: [
      ...first.step.choices,
      `(${others.size} other outcome(s) lead elsewhere; following this one)`,
    ],
  };
}

export function replayScenario(policy: Policy, config: CheckConfig, scenario: Scenario): Replay {
  const m = new SemanticMachine(policy, config.vcpus);
  const boot = bootStep(m);
  const steps: Step[] = [];
  let violation: Violation | undefined;
  for (let i = 0; i < scenario.events.length && !violation; i++) {
    const { text, event } = scenario.events[i];
    const why = whyDisabled(event, m.s, config.vcpus);
    if (why)
      throw new UserError(
        `${userText(scenario.file)}: events[${i}] ${userText(JSON.stringify(text))}: cannot happen here: ${why}`,
      );
    const from = m.snapshot();
    // Filled in by the visitor (an object: a callback's assignments are not narrowed away).
    const seen: { first?: { step: Step; state: typeof from } } = {};
    const others = new Set<string>();
    const broke = forEachOutcome(
      (chooser) => {
        m.restore(from);
        try {
          return runStep(m, i + 1, event, chooser);
        } catch (e) {
          throw policyCrash(policy, m, e);
        }
      },
      (r) => {
        if (r.violation) {
          steps.push(r.step);
          violation = r.violation;
          return true;
        }
        if (!seen.first) seen.first = { step: r.step, state: m.snapshot() };
        else others.add(stateKey(m.s));
        return false;
      },
    );
    if (broke) break;
    // No outcome broke an invariant: go on from the first.
    const first = seen.first;
    if (!first) throw new Error(`internal: event ${i + 1} of ${scenario.file} had no outcome`);
    steps.push(followFirst(m, first, others));
  }
  return {
    scenario: scenario.name,
    policy: policy.id,
    config: config.name,
    verdict: violation ? 'violation' : 'ok',
    invariant: violation?.invariant ?? null,
    diagnosis: violation ? diagnose(violation, boot, steps) : null,
    steps,
    initial: boot.state,
    initialState: describeInitialState(config.vcpus),
  };
}
