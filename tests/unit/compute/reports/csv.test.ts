import { cellText, csvField, toCsv, toRecords } from '../../../../compute/reports/csv';

describe('CSV export', () => {
  it('quotes as RFC 4180: commas, quotes, CR and LF; CRLF records', () => {
    const csv = toCsv({
      name: 't',
      columns: ['name', 'value'],
      rows: [
        ['a,b', 1],
        ['say "hi"', -2.5],
        ['two\nlines', null],
        ['cr\rhere', true],
        ['plain', 1e-7],
      ],
    });
    expect(csv).toBe(
      'name,value\r\n"a,b",1\r\n"say ""hi""",-2.5\r\n"two\nlines",\r\n"cr\rhere",true\r\nplain,1e-7\r\n',
    );
  });

  it('escapes formula injection with a leading apostrophe', () => {
    expect(cellText('=HYPERLINK("http://x","y")')).toBe(`'=HYPERLINK("http://x","y")`);
    expect(cellText('+cmd')).toBe("'+cmd");
    expect(cellText('-2+3')).toBe("'-2+3");
    expect(cellText('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(cellText('\tTAB')).toBe("'\tTAB");
    expect(cellText('\rCR')).toBe("'\rCR");
    // quoted afterwards when the text needs it
    expect(csvField('=1+2,3')).toBe(`"'=1+2,3"`);
    expect(csvField('=A1 "x"')).toBe(`"'=A1 ""x"""`);
  });

  it('leaves plain numbers (as numbers or numeric text) and ordinary names alone', () => {
    expect(cellText(-1.5)).toBe('-1.5');
    expect(cellText('-1.5')).toBe('-1.5');
    expect(cellText('+2e-3')).toBe('+2e-3');
    expect(cellText('-.5')).toBe('-.5');
    expect(cellText('hsa-miR-21-5p')).toBe('hsa-miR-21-5p');
    expect(cellText('a=b')).toBe('a=b');
    expect(cellText(NaN)).toBe('');
    expect(cellText(null)).toBe('');
    expect(cellText(false)).toBe('false');
  });

  it('JSON records keep column order and nulls', () => {
    expect(toRecords({ name: 't', columns: ['b', 'a'], rows: [[1, null]] })).toEqual([
      { b: 1, a: null },
    ]);
    expect(Object.keys(toRecords({ name: 't', columns: ['b', 'a'], rows: [[1, 2]] })[0]!)).toEqual([
      'b',
      'a',
    ]);
  });
});
