import { parseArgs } from 'node:util';

/** A command-line mistake: one line on stderr, exit code 2. */
export class UsageError extends Error {}

/** `--help` or `-h`: the usage on stdout, exit code 0. */
export class HelpRequested extends Error {}

export interface CommandLine {
  /** Option values by name; a boolean flag that is present reads 'true'. */
  values: Map<string, string>;
  positionals: string[];
}

/**
 * Parses `argv` with node:util's parseArgs in strict mode: `--name value`, `--name=value` and
 * flags; an unknown option, a missing value or an unexpected positional is a UsageError.
 * `options` maps each name to its type; `--help`/`-h` are always known.
 */
export function parseCommandLine(argv: string[], options: Record<string, 'string' | 'boolean'>, config: { allowPositionals?: boolean } = {}): CommandLine {
  const spec = Object.fromEntries(Object.entries(options).map(([name, type]) => [name, { type }]));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: { ...spec, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: config.allowPositionals ?? false });
  } catch (error) {
    // Node's messages carry a second sentence about `--`; the first says what is wrong.
    throw new UsageError((error as Error).message.split('. ')[0].replace(/\.$/, ''));
  }
  if (parsed.values.help) throw new HelpRequested();
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed.values)) if (value !== undefined && value !== false) values.set(name, String(value));
  return { values, positionals: parsed.positionals };
}

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * Runs a command's `main` and returns its exit code: 0 after --help (usage on stdout), 2 after a
 * UsageError (one line on stderr), `failureExitCode` (default 1) after any other error. A `main`
 * that completes returns 0; it may set process.exitCode itself.
 */
export async function runCommand(usage: string, main: () => void | Promise<void>, options: { io?: CommandIo; failurePrefix?: string; failureExitCode?: number } = {}): Promise<number> {
  const io = options.io ?? processIo;
  try {
    await main();
    return 0;
  } catch (error) {
    if (error instanceof HelpRequested) {
      io.stdout(`${usage}\n`);
      return 0;
    }
    if (error instanceof UsageError) {
      io.stderr(`${error.message} (--help for usage)\n`);
      return 2;
    }
    io.stderr(`${options.failurePrefix ?? ''}${error instanceof Error ? error.message : String(error)}\n`);
    return options.failureExitCode ?? 1;
  }
}

/** Ends the process with a failing exit code; after 0 the process ends by itself (a command may keep servers running). */
export function exitOnFailure(code: number): void {
  if (code !== 0) process.exit(code);
}

/** `runCommand` for a process entry point. */
export function runCli(usage: string, main: () => void | Promise<void>, options: { failurePrefix?: string; failureExitCode?: number } = {}): void {
  // void: runCommand never rejects; it turns every error into an exit code.
  void runCommand(usage, main, options).then(exitOnFailure);
}

/** `parseCommandLine` at the top of a script: --help prints the usage and exits 0, a mistake exits 2. */
export function parseCommandLineOrExit(usage: string, argv: string[], options: Record<string, 'string' | 'boolean'>, config: { allowPositionals?: boolean } = {}): CommandLine {
  try {
    return parseCommandLine(argv, options, config);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    process.stderr.write(`${(error as Error).message} (--help for usage)\n`);
    process.exit(2);
  }
}
