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
 * a single SP character." The start line (index 0) is never a fold target.
 *
 * Refuses early (issue 11): it stops at the end of logical line `maxLines + 1` (then `lineCount` is
 * `maxLines + 2` and the caller refuses the message), and a logical line longer than `maxLineLength`
 * characters stops being collected: the rest of its fold lines are skipped by one native search and the line
 * is returned cut to `maxLineLength + 1` characters (so the caller's length check refuses it). Each physical
 * line costs one native `indexOf`, each kept line one slice: O(n) with a small constant whatever the shape.
 * Fold lines count too: past `maxPhysicalLines` lines in all (default `2 * maxLines`: real user agents
 * seldom fold at all) it stops and sets `tooManyLines`.
 */
export function unfoldLines(
  head: string,
  maxLines: number,
  maxLineLength = Infinity,
  maxPhysicalLines = 2 * maxLines,
): { lines: string[]; lineCount: number; tooManyLines: boolean } {
  const lines: string[] = [];
  let parts: string[] | undefined;
  let partsLength = 0;
  let lineCount = 0;
  let physical = 0;
  let tooManyLines = false;
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
    if (++physical > maxPhysicalLines + 1) {
      tooManyLines = true;
      break;
    }
    const folded = end > from && isWsp(head.charCodeAt(from)) && lineCount > 1;
    if (folded) {
      if (parts) {
        const last = parts.length - 1;
        parts[last] = trimEndWsp(parts[last]!);
        const piece = trimWsp(head.slice(from, end));
        parts.push(piece);
        partsLength += piece.length + 1;
        if (partsLength > maxLineLength) {
          // Too long already: keep a cut copy and jump past the remaining fold lines of this header.
          parts = [parts.join(' ').slice(0, maxLineLength + 1)];
          nl = nextUnfoldedLine(head, nl) - 1;
        }
      }
    } else {
      flush();
      lineCount++;
      if (lineCount > maxLines + 1) break;
      const line = head.slice(from, end);
      parts = [line.length > maxLineLength ? line.slice(0, maxLineLength + 1) : line];
      partsLength = line.length;
    }
    from = nl + 1;
  }
  flush();
  return { lines, lineCount, tooManyLines };
}

/** FOLD_END.lastIndex is set before each use; it finds a line break not followed by SP/HTAB. */
const FOLD_END = /\n(?![ \t])/g;

/** Index of the first line after `nl` (the index of a "\n") that is not a fold line, or past the end. */
function nextUnfoldedLine(head: string, nl: number): number {
  FOLD_END.lastIndex = nl;
  const m = FOLD_END.exec(head);
  return m ? m.index + 1 : head.length + 1;
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
