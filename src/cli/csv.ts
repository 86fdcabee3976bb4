/**
 * A streaming CSV reader (RFC 4180: comma separated, double-quoted fields with "" for a quote, newlines allowed
 * inside quotes, LF or CRLF line ends). Feed it text as it arrives; it hands back whole records, each with the
 * line number it started on, so a rejected row can be named by file and line.
 */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export class CsvReader {
  private field = '';
  private fields: string[] = [];
  private quoted = false;
  private afterQuote = false;
  private line = 1;
  private recordLine = 1;
  private empty = true;

  push(text: string, onRecord: (record: CsvRecord) => void): void {
    let start = 0;
    for (let i = 0; i < text.length; i += 1) {
      const char = text.charCodeAt(i);
      if (this.quoted) {
        if (char === 34 /* " */) {
          this.field += text.slice(start, i);
          this.quoted = false;
          this.afterQuote = true;
          start = i + 1;
        } else if (char === 10) {
          this.line += 1;
        }
        continue;
      }
      if (char === 34) {
        // "" inside a quoted field is a quote; a quote opening an unquoted field starts quoting.
        this.field += text.slice(start, i);
        if (this.afterQuote) this.field += '"';
        this.quoted = true;
        this.afterQuote = false;
        this.empty = false;
        start = i + 1;
      } else if (char === 44 /* , */) {
        this.fields.push(this.field + text.slice(start, i));
        this.field = '';
        this.afterQuote = false;
        this.empty = false;
        start = i + 1;
      } else if (char === 10 /* \n */) {
        const last = this.field + text.slice(start, i);
        this.endRecord(last.endsWith('\r') ? last.slice(0, -1) : last, onRecord);
        this.line += 1;
        this.recordLine = this.line;
        start = i + 1;
      } else {
        this.afterQuote = false;
        this.empty = false;
      }
    }
    this.field += text.slice(start);
  }

  /** The last record, when the file does not end with a newline. */
  end(onRecord: (record: CsvRecord) => void): void {
    const last = this.field.endsWith('\r') ? this.field.slice(0, -1) : this.field;
    if (!this.empty || last !== '') this.endRecord(last, onRecord);
  }

  private endRecord(last: string, onRecord: (record: CsvRecord) => void): void {
    if (this.empty && last === '' && this.fields.length === 0) return; // blank lines are skipped
    this.fields.push(last);
    onRecord({ line: this.recordLine, fields: this.fields });
    this.fields = [];
    this.field = '';
    this.afterQuote = false;
    this.empty = true;
  }
}
