import { ConfigError } from '../errors.js';

/** One `key = value` line, after `%%` unescaping. */
export interface IniEntry {
  /** The value with surrounding whitespace removed; may be empty. */
  value: string;
  /** 1-based line of the key, for messages. */
  line: number;
}

/** One `[name]` section. Sections with the same name are merged into the first one. */
export interface IniSection {
  /** The header text between the brackets, exactly as written (case-sensitive, may hold `/.:-_` and spaces). */
  name: string;
  /** 1-based line of the (first) header. */
  line: number;
  /** Keys upper-cased; a key given twice keeps the last value. */
  entries: Map<string, IniEntry>;
}

/** A parsed config file; `sections` are in file order. */
export interface IniFile {
  fileName: string;
  sections: IniSection[];
}

/** Look a section up by its exact name. */
export function findSection(file: IniFile, name: string): IniSection | undefined {
  return file.sections.find((s) => s.name === name);
}

const HEADER = /^\[(.+)\]$/;
const COMMENT_PREFIXES = ['#', ';'];

/**
 * Parse INI text the way Python's configparser reads z3.conf, minus its interpolation: `[section]`
 * headers, `key = value` or `key: value` (the first `=` or `:` splits), full-line `#` / `;`
 * comments, `%%` for a literal `%`.
 *
 * Why no continuation lines (configparser appends an indented line to the previous value): no
 * z3 key holds several lines, and a misindented `    S3_SECRET = …` after `BUCKET = x` would
 * silently become part of the bucket name, then be printed in every message that names it.
 *
 * Why our own parser: the npm `ini` package splits section names on dots, and dataset names
 * like `tank/v1.2` are common. Why reject a lone `%`: configparser would fail on it too (or
 * expand `%(name)s`), so accepting it silently would make the same file mean different things
 * to the two implementations.
 *
 * @throws ConfigError `<file>:<line>: …` on a line that is not a header, key or comment, or is
 *   indented deeper than the key line before it; the line's text is never shown.
 */
export function parseIni(text: string, fileName: string): IniFile {
  const file: IniFile = { fileName, sections: [] };
  let section: IniSection | undefined;
  let last: { key: string; indent: number } | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || COMMENT_PREFIXES.some((p) => trimmed.startsWith(p))) return;
    const indent = raw.length - raw.trimStart().length;
    if (last !== undefined && indent > last.indent) {
      // Not echoed: a misindented `    S3_SECRET = …` lands here.
      throw new ConfigError(
        `${fileName}:${lineNo}: an indented line would continue the value of ${last.key}; every value takes one line`,
        { hint: 'remove the indentation (the line is not shown: it may hold a secret)' },
      );
    }
    last = undefined;
    const header = HEADER.exec(trimmed);
    if (header !== null) {
      section = openSection(file, header[1] ?? '', lineNo);
      return;
    }
    const where = `${fileName}:${lineNo}`;
    if (trimmed.startsWith('[')) {
      throw new ConfigError(`${where}: malformed section header "${trimmed}"`, {
        hint: 'a header is alone on its line, like [fs:tank/data]',
      });
    }
    const split = /[=:]/.exec(trimmed);
    if (split === null) {
      // The line itself is not echoed: it may be a secret pasted without its key.
      throw new ConfigError(`${where}: expected "[section]" or "key = value"`);
    }
    const key = trimmed.slice(0, split.index).trim().toUpperCase();
    if (key === '') throw new ConfigError(`${where}: missing key name before "${split[0]}"`);
    if (section === undefined) {
      throw new ConfigError(`${where}: key ${key} appears before any [section] header`, {
        hint: 'put general keys under [main]',
      });
    }
    const value = unescapePercent(trimmed.slice(split.index + 1).trim(), {
      fileName,
      line: lineNo,
      key,
    });
    const entry: IniEntry = { value, line: lineNo };
    section.entries.set(key, entry);
    last = { key, indent };
  });
  return file;
}

function openSection(file: IniFile, name: string, line: number): IniSection {
  const existing = findSection(file, name);
  if (existing !== undefined) return existing;
  const created: IniSection = { name, line, entries: new Map() };
  file.sections.push(created);
  return created;
}

function unescapePercent(
  text: string,
  at: { fileName: string; line: number; key: string },
): string {
  return text.replace(/%(.?)/g, (_match, next: string) => {
    if (next === '%') return '%';
    throw new ConfigError(
      `${at.fileName}:${at.line}: ${at.key}: a literal "%" must be written "%%"`,
      {
        hint: 'z3.conf follows Python configparser rules, where "%" starts an interpolation',
      },
    );
  });
}
