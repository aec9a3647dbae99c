import { currencyExponent, fromMinorUnits, toMinorUnits } from './money';

describe('money', () => {
  it('uses ISO 4217 exponents', () => {
    expect(currencyExponent('usd')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
  });

  it('converts major to minor units exactly, half away from zero', () => {
    expect(toMinorUnits(19.99, 'USD')).toBe(1999);
    expect(toMinorUnits(1.005, 'EUR')).toBe(101);
    expect(toMinorUnits(0.29, 'EUR')).toBe(29);
    expect(toMinorUnits(-4.5, 'JPY')).toBe(-5);
    expect(toMinorUnits(1.2345, 'KWD')).toBe(1235);
    expect(fromMinorUnits(1999, 'USD')).toBe(19.99);
  });
});
