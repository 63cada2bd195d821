/**
 * Why Salesforce refused one record: `statusCode` as sObject collections name it per record (`errorCode` in
 * single-record REST responses), the message Salesforce gives, and the fields at fault.
 */
export class RecordError extends Error {
  override name = 'RecordError';

  constructor(
    readonly statusCode: string,
    message: string,
    readonly fields: string[] = [],
    /** HTTP status for single-record endpoints. */
    readonly httpStatus = 400,
  ) {
    super(message);
  }

  toCollectionError(): { statusCode: string; message: string; fields: string[] } {
    return { statusCode: this.statusCode, message: this.message, fields: this.fields };
  }

  toRestError(): { message: string; errorCode: string; fields: string[] } {
    return { message: this.message, errorCode: this.statusCode, fields: this.fields };
  }
}
