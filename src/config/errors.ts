export interface ConfigProblem {
  variable: string;
  value: string | undefined;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const lines = problems.map(
      (p) => `  - ${p.variable}${p.value === undefined ? '' : `=${JSON.stringify(p.value)}`}: ${p.message}`,
    );
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
