/** Words every layer shares that are not the spec's: the provider's operation contract and a guest image's files. */
export type { OperationContext, ResourceOperations } from "./operations";
export { urnParts } from "./operations";
export type { GuestImage } from "./guestImage";
