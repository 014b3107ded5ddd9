/* CSV in the browser: decode and parse an uploaded file (RFC 4180 quotes; comma, semicolon or tab), write one. */
"use strict";

window.nlpopsCsv = (() => {
  /** The delimiter of the header line: the most frequent of comma, semicolon and tab. */
  function detectDelimiter(text) {
    const end = text.search(/\r?\n/);
    const header = end === -1 ? text : text.slice(0, end);
    const ranked = [",", ";", "\t"].map((d) => [d, header.split(d).length]).sort((a, b) => b[1] - a[1]);
    return ranked[0][0];
  }

  /** Split `text` into rows of fields; throws when a quoted field is never closed. */
  function parseRows(text, delimiter) {
    const rows = [];
    let row = [];
    let field = "";
    let quoted = false;
    const endField = () => {
      row.push(field);
      field = "";
    };
    const endRow = () => {
      endField();
      rows.push(row);
      row = [];
    };
    for (let i = 0; i < text.length; i += 1) {
      const c = text[i];
      if (quoted && c === '"' && text[i + 1] === '"') {
        field += '"'; // an escaped quote inside a quoted field
        i += 1;
      } else if (quoted) {
        if (c === '"') quoted = false;
        else field += c;
      } else if (c === '"' && field === "") {
        quoted = true;
      } else if (c === delimiter) {
        endField();
      } else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") i += 1;
        endRow();
      } else {
        field += c;
      }
    }
    if (quoted) throw new Error("a quoted field is never closed");
    if (field !== "" || row.length) endRow();
    return rows;
  }

  /** `{header, rows}` of a CSV text; blank lines are dropped, a byte-order mark is ignored. */
  function parse(text) {
    const clean = text.replace(/^\uFEFF/, "");
    const rows = parseRows(clean, detectDelimiter(clean)).filter((r) => r.length > 1 || r[0].trim() !== "");
    if (!rows.length) throw new Error("the file is empty");
    const [header, ...body] = rows;
    return { header: header.map((name, i) => name.trim() || `column ${i + 1}`), rows: body };
  }

  const SNIFFED_BYTES = 65536; // enough of a file to tell text from binary
  const MAX_CONTROL_SHARE = 0.01; // text has no control bytes but tab, line breaks and form feed

  /** True when the start of `bytes` is not text: a NUL byte, or control bytes that text never has
   * (a spreadsheet, a ZIP, an image, a PDF…). UTF-16 files start with their byte-order mark. */
  function isBinary(bytes) {
    const head = bytes.subarray(0, SNIFFED_BYTES);
    let controls = 0;
    for (const b of head) {
      if (b === 0) return true;
      if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d) || b === 0x7f) controls += 1;
    }
    return controls > MAX_CONTROL_SHARE * head.length;
  }

  /** The text of a file's bytes: UTF-16 by its byte-order mark, else UTF-8, else Windows-1252 (what
   * spreadsheets on Windows export); null when the bytes are not text at all. */
  function decode(bytes) {
    if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes);
    if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes);
    if (isBinary(bytes)) return null;
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (err) {
      return new TextDecoder("windows-1252").decode(bytes);
    }
  }

  function quote(value) {
    const text = String(value ?? "");
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  /** A CSV file (comma, CRLF) with a byte-order mark so that spreadsheets read it as UTF-8. */
  function serialize(header, rows) {
    return "\uFEFF" + [header, ...rows].map((row) => row.map(quote).join(",")).join("\r\n") + "\r\n";
  }

  return { decode, parse, serialize };
})();
