export * from "./placement";
export * from "./guestCmdline";
