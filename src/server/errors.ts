/** Errors the services raise that the transports (fastify, Functions) turn into HTTP statuses. */

/** A feature whose service is not configured or not built: HTTP 501 with what to do. */
export class NotAvailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotAvailableError";
  }
}

/** A request the service cannot act on as given: HTTP 400 (or `status`). */
export class BadRequestError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = "BadRequestError";
  }
}

/** A thing asked for that does not exist: HTTP 404. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotFoundError";
  }
}
