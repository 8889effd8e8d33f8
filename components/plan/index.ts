export * from "./placement";
export * from "./guestCmdline";
export * from "./hostCmdline";
