export * from './types.js';
export { parseWebhookBody, peekAdmission, type ParsedBody, type ParseResult } from './parse.js';
export { mapEvents, MANAGED_GROUP, type MappingOptions, type MapResult } from './map-event.js';
export { messageGroupId, requestGroupId, fanoutGroupId, dedupId, sha256Hex, isSqsId, SQS_ID_MAX } from './identity.js';
export { ADMISSION_API_VERSION } from './schemas.js';
