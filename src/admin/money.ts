/** Formats an amount as the shop shows it (e.g. "€1,234.50" for EUR in en-US). */
export function moneyFormatter(currency: string, locale: string): (amount: number) => string {
  const format = new Intl.NumberFormat(locale, { style: 'currency', currency });
  return (amount) => format.format(amount);
}
