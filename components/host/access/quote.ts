/**
 * The one place a command line is built from argv for a shell on another
 * machine. sshd hands the remote command to the login shell as one string, so
 * every word must be quoted there; doing it here, and only here, is what makes
 * "a value can never become shell" true.
 *
 * POSIX single quotes rather than zx's `$'…'`: the remote login shell may be
 * dash, which has no `$'…'`, and inside single quotes every byte but the quote
 * itself is literal (newlines included).
 */

/** Words that mean the same quoted or not; anything else gets quoted. "=" is left out so a word is never an assignment. */
const plainWord = /^[A-Za-z0-9_@%+,./:-]+$/;

/** One argv word as a POSIX shell word with the same bytes. */
export function shQuote(word: string): string {
    if (plainWord.test(word)) return word;
    return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** argv as one shell command line. */
export function shJoin(argv: readonly string[]): string {
    return argv.map(shQuote).join(" ");
}

/** argv for messages: what a person could paste into a shell to repeat it. */
export function displayArgv(argv: readonly string[]): string {
    return shJoin(argv);
}
