/**
 * `omicselector methods [--json]`: the whole registry (selectors, models, metrics, splitters,
 * preprocessors) with argument specs — the same list the GraphQL `methods` query serves.
 */
import { type Command } from 'commander';
import { type ArgSpec } from '../../core/args';
import { type AnyMethodDef } from '../../core/method';
import { metrics, models, preprocessors, selectors, splitters } from '../../registry';
import { type CliCommand } from '../command';
import { table, writeJson, writeStdout } from '../output';

/** JSON-safe description of one registry entry (everything but its functions). */
export function describeMethod(m: AnyMethodDef): Record<string, unknown> {
  const out: Record<string, unknown> = {
    kind: m.kind,
    code: m.code,
    label: m.label,
    description: m.description,
    reference: m.reference,
    tasks: m.tasks,
  };
  if ('device' in m) out.device = m.device;
  if ('gpuMinCells' in m && m.gpuMinCells !== undefined) out.gpuMinCells = m.gpuMinCells;
  if (m.kind === 'metric') {
    out.greaterIsBetter = m.greaterIsBetter;
    out.needsScores = m.needsScores;
  }
  if ('args' in m) out.args = m.args;
  return out;
}

export function registryJson(): Record<string, Record<string, unknown>[]> {
  return {
    selectors: selectors.map(describeMethod),
    models: models.map(describeMethod),
    metrics: metrics.map(describeMethod),
    splitters: splitters.map(describeMethod),
    preprocessors: preprocessors.map(describeMethod),
  };
}

function argSummary(name: string, spec: ArgSpec): string {
  const def =
    'default' in spec && spec.default !== undefined ? `=${JSON.stringify(spec.default)}` : '';
  const values = spec.type === 'enum' ? ` (${spec.values.join('|')})` : '';
  return `${name}${def}${values}`;
}

export const methods: CliCommand = {
  name: 'methods',
  register(program: Command) {
    program
      .command('methods')
      .description(
        'list every registered method (selectors, models, metrics, splitters, preprocessors)',
      )
      .option('--json', 'print the registry as one JSON object')
      .action(async (opts: { json?: boolean }) => {
        const reg = registryJson();
        if (opts.json) return writeJson(reg);
        const parts: string[] = [];
        for (const [kind, list] of Object.entries(reg)) {
          parts.push(`${kind} (${list.length})\n`);
          const rows = list.map(m => {
            const args = (m.args ?? {}) as Record<string, ArgSpec>;
            return [
              String(m.code),
              String(m.label),
              (m.tasks as string[]).join(','),
              Object.entries(args)
                .map(([k, s]) => argSummary(k, s))
                .join(' '),
            ];
          });
          parts.push(table(['code', 'label', 'tasks', 'args'], rows), '\n');
        }
        return writeStdout(parts.join(''));
      });
  },
};
