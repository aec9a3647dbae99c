/**
 * Text PostgreSQL cannot store: `text` and `jsonb` reject the NUL character, and a lone UTF-16
 * surrogate has no UTF-8 encoding (node-postgres would send U+FFFD, silently changing the value).
 * Input carrying either is refused at the edge with the path of the field, so nothing that was
 * acknowledged fails downstream (issue 15).
 */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What is wrong with a string, or undefined when PostgreSQL can store it as it is. */
export function unstorableTextProblem(text: string): string | undefined {
  const match = UNSTORABLE.exec(text);
  if (!match) return undefined;
  if (match[0] === '\u0000') return `contains a NUL character (\\u0000) at position ${match.index}, which cannot be stored`;
  return `contains a lone surrogate (\\u${match[0].charCodeAt(0).toString(16)}) at position ${match.index}, which is not valid Unicode`;
}

export interface UnstorableText {
  /** Dotted/indexed path as in validation errors (`properties.items[0].name`); `root` for the value itself. */
  field: string;
  problem: string;
}

/** A key made printable for an error message: NUL and lone surrogates as \u escapes. */
function printable(key: string): string {
  return JSON.stringify(key).replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

const join = (parent: string, key: string | number) => (typeof key === 'number' ? `${parent}[${key}]` : parent ? `${parent}.${key}` : key);

/**
 * The first string (value or object key) in a JSON value that PostgreSQL cannot store, with its
 * path under `root` (`whole` names the value itself when root is empty: body, query). Recursive:
 * callers pass parsed request bodies, whose depth the body parser has already limited.
 */
export function findUnstorableText(value: unknown, root = '', whole = 'body'): UnstorableText | undefined {
  if (typeof value === 'string') {
    const problem = unstorableTextProblem(value);
    return problem ? { field: root || whole, problem } : undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], join(root, i), whole);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const keyProblem = unstorableTextProblem(key);
    if (keyProblem) return { field: root || whole, problem: `has a key ${printable(key)} that ${keyProblem}` };
    const found = findUnstorableText((value as Record<string, unknown>)[key], join(root, key), whole);
    if (found) return found;
  }
  return undefined;
}
