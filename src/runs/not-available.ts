/**
 * A feature the CLI knows about whose back end is not in this build yet. It fails loudly instead of
 * pretending, and says what is missing.
 */
export class NotAvailableError extends Error {
  constructor(
    readonly feature: string,
    readonly missing: string,
  ) {
    super(`not available yet: ${feature} (${missing})`);
    this.name = 'NotAvailableError';
  }
}
