/**
 * Money is stored as integer minor units plus currency (ARCHITECTURE §4). ISO 4217 exponents for
 * the currencies whose minor unit is not 1/100; everything else has two decimals.
 */
const EXPONENTS: Record<string, number> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
};

export function currencyExponent(currency: string): number {
  return EXPONENTS[currency.toUpperCase()] ?? 2;
}

/** An amount in major units (as Segment sends `revenue`) to integer minor units, rounded half away from zero. */
export function toMinorUnits(amount: number, currency: string): number {
  const scaled = amount * 10 ** currencyExponent(currency);
  // Guard against binary fractions such as 1.005 * 100 = 100.49999999999999.
  const rounded = Math.round(Math.abs(scaled) + 1e-9 * Math.max(1, Math.abs(scaled)));
  return scaled < 0 ? -rounded : rounded;
}

export function fromMinorUnits(minor: number, currency: string): number {
  return minor / 10 ** currencyExponent(currency);
}
