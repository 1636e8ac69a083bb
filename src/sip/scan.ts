/**
 * Linear-time text helpers for the SIP parser (issue 11 "hostile input"): every function here looks at each
 * character a bounded number of times, with no regular expression that can backtrack over untrusted input and
 * no repeated slicing of a growing string. A 64 KB datagram of whitespace runs, folds or commas costs O(n).
 */

/** SP or HTAB (RFC 3261 §25.1 WSP). */
export function isWsp(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** `s` without leading and trailing SP/HTAB, by index scan (no /[ \t]+$/, which is quadratic on long runs). */
export function trimWsp(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isWsp(s.charCodeAt(start))) start++;
  while (end > start && isWsp(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Length of the longest run of SP/HTAB in `s`. */
export function longestWspRun(s: string): number {
  let longest = 0;
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    if (isWsp(s.charCodeAt(i))) {
      run++;
      if (run > longest) longest = run;
    } else run = 0;
  }
  return longest;
}

/**
 * Splits a header section into logical lines, undoing folding.
 * §7.3.1: "Header fields can be extended over multiple lines by preceding each extra line with at least one
 * SP or horizontal tab (HT). The line break and the whitespace at the beginning of the next line are treated as
 * a single SP character." The start line (index 0) is never a fold target. Stops collecting after `maxLines`
 * logical lines (the caller refuses the message then); `lineCount` still counts them all.
 */
export function unfoldLines(head: string, maxLines: number): { lines: string[]; lineCount: number } {
  const lines: string[] = [];
  let parts: string[] | undefined;
  let lineCount = 0;
  const flush = (): void => {
    if (parts) lines.push(parts.length === 1 ? parts[0]! : parts.join(' '));
    parts = undefined;
  };
  let from = 0;
  while (from <= head.length) {
    let nl = head.indexOf('\n', from);
    if (nl < 0) nl = head.length;
    let end = nl;
    if (end > from && head.charCodeAt(end - 1) === 0x0d) end--;
    const folded = end > from && isWsp(head.charCodeAt(from)) && lineCount > 1;
    if (folded) {
      if (parts) {
        const last = parts.length - 1;
        parts[last] = trimEndWsp(parts[last]!);
        parts.push(trimWsp(head.slice(from, end)));
      }
    } else {
      flush();
      lineCount++;
      if (lineCount <= maxLines + 1) parts = [head.slice(from, end)];
    }
    from = nl + 1;
  }
  flush();
  return { lines, lineCount };
}

function trimEndWsp(s: string): string {
  let end = s.length;
  while (end > 0 && isWsp(s.charCodeAt(end - 1))) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** The words of a start line split on runs of SP/HTAB (empty words dropped), by index scan. */
export function wspWords(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && isWsp(s.charCodeAt(i))) i++;
    const start = i;
    while (i < s.length && !isWsp(s.charCodeAt(i))) i++;
    if (i > start) out.push(s.slice(start, i));
  }
  return out;
}
