/**
 * The vector selectors of a PromQL expression (`name{label="value", ...}`), for tests that
 * check a dashboard's queries against the metrics the code exports. A scanner, not a full
 * parser: it knows what in PromQL is not a metric name (functions and aggregations, which
 * a `(` or a `by`/`without` list follows; the label lists after `by`, `without`, `on`,
 * `ignoring`, `group_left`, `group_right`; keywords and set operators; strings, numbers,
 * durations, `[...]` ranges; Grafana variables such as `$__rate_interval`), and refuses
 * what it cannot judge (`{__name__=...}` selectors) instead of passing it. Grammar:
 * https://prometheus.io/docs/prometheus/latest/querying/basics/
 */

/** One label matcher of a selector: `label op "value"`. */
export interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** One vector selector: the metric name and its label matchers. */
export interface VectorSelector {
  name: string;
  matchers: LabelMatcher[];
}

/** Lists of label names that follow these words in parentheses, never metric names. */
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
/** Words of the language that stand without parentheses. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);
const IDENT_START = /[a-zA-Z_:]/;
const IDENT_PART = /[a-zA-Z0-9_:]/;
const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`([^`]*)`)\s*$/;

/** Index just past the string literal starting at `i` (`"`, `'` or a backtick). */
function skipString(expr: string, i: number): number {
  const quote = expr[i];
  let j = i + 1;
  while (j < expr.length && expr[j] !== quote) j += quote !== '`' && expr[j] === '\\' ? 2 : 1;
  if (j >= expr.length) throw new Error(`unterminated string in ${expr}`);
  return j + 1;
}

/** Index just past the bracket that closes the one at `i` (`(`, `[` or `{`), strings skipped. */
function skipBalanced(expr: string, i: number): number {
  const open = expr[i]!;
  const close = { '(': ')', '[': ']', '{': '}' }[open];
  let depth = 0;
  for (let j = i; j < expr.length; ) {
    const c = expr[j]!;
    if (c === '"' || c === "'" || c === '`') {
      j = skipString(expr, j);
      continue;
    }
    if (c === open) depth += 1;
    else if (c === close && --depth === 0) return j + 1;
    j += 1;
  }
  throw new Error(`unbalanced ${open} in ${expr}`);
}

/** The matchers between `{` and `}` (exclusive), split on commas outside strings. */
function parseMatchers(body: string, expr: string): LabelMatcher[] {
  const parts: string[] = [];
  let start = 0;
  for (let j = 0; j < body.length; ) {
    const c = body[j]!;
    if (c === '"' || c === "'" || c === '`') {
      j = skipString(body, j);
      continue;
    }
    if (c === ',') {
      parts.push(body.slice(start, j));
      start = j + 1;
    }
    j += 1;
  }
  parts.push(body.slice(start));
  return parts
    .filter((p) => p.trim() !== '')
    .map((p) => {
      const m = MATCHER.exec(p);
      if (!m) throw new Error(`unreadable label matcher "${p.trim()}" in ${expr}`);
      const matcher = { label: m[1]!, op: m[2] as LabelMatcher['op'], value: m[3] ?? m[4] ?? m[5] ?? '' };
      if (matcher.label === '__name__') throw new Error(`a __name__ matcher hides the metric name from this check: ${expr}`);
      return matcher;
    });
}

/**
 * The vector selectors of `expr`, in order of appearance (a metric selected twice appears
 * twice).
 *
 * @throws Error for a selector without a metric name (`{job="x"}`, `{__name__=~"..."}`),
 *   an unreadable matcher, an unterminated string or unbalanced brackets.
 */
export function vectorSelectors(expr: string): VectorSelector[] {
  const selectors: VectorSelector[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') i = skipString(expr, i);
    else if (c === '[') i = skipBalanced(expr, i);
    else if (c === '{') throw new Error(`a selector without a metric name: ${expr}`);
    else if (c === '$') {
      // A Grafana variable: $name, $__name or ${name:format}.
      i = expr[i + 1] === '{' ? skipBalanced(expr, i + 1) : i + 1;
      while (i < expr.length && /\w/.test(expr[i]!)) i += 1;
    } else if (/[0-9.]/.test(c)) {
      // A number or a duration (0.95, 1e3, 0x1f, 5m, 1h30m).
      while (i < expr.length && /[0-9a-zA-Z_.]/.test(expr[i]!)) i += 1;
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < expr.length && IDENT_PART.test(expr[j]!)) j += 1;
      const word = expr.slice(i, j);
      let k = j;
      while (k < expr.length && /\s/.test(expr[k]!)) k += 1;
      if (GROUPING.has(word)) i = expr[k] === '(' ? skipBalanced(expr, k) : j;
      // A function or aggregation call, its grouping possibly first: `sum by (le) (...)`.
      else if (expr[k] === '(' || /^(by|without)\s*\(/.test(expr.slice(k)) || KEYWORDS.has(word.toLowerCase())) i = j;
      else if (expr[k] === '{') {
        const end = skipBalanced(expr, k);
        selectors.push({ name: word, matchers: parseMatchers(expr.slice(k + 1, end - 1), expr) });
        i = end;
      } else {
        selectors.push({ name: word, matchers: [] });
        i = j;
      }
    } else i += 1;
  }
  return selectors;
}

/** The distinct metric names `expr` selects. */
export function metricNamesOf(expr: string): string[] {
  return [...new Set(vectorSelectors(expr).map((s) => s.name))];
}
